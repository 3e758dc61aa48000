"""Study (c): MNIST MLP 784-256-128-10 with every training algorithm on one seed (PHYSICS.md §5).

Every algorithm is run through the ordinary runner (:func:`hwsim.training.runner.run_experiment`)
with timing and energy on, and priced by :func:`hwsim.report.runs.run_report`, so accuracy
(physics kernels), latency and energy (component models) come from the same run.  The
experiments are the shipped ``configs/mnist_mlp_*.yaml``; the algorithms without an MNIST
config are derived here from their digits config with only the workload swapped:

* ``float`` — ``configs/mnist_mlp_sgd.yaml`` with ``algorithm: float`` (lr 0.5, the analog SGD
  rate, no parameters): the digital baseline priced as MACs on the digital unit;
* ``hic`` — ``configs/digits_hic.yaml`` (PCM tile inline, 8-bit accumulator) on MNIST;
* ``sbpca`` — ``configs/digits_sbpca.yaml`` (rank 4) on MNIST.

Data: the MNIST t10k files (8000 train / 2000 test) at ``../shared/data/mnist`` relative to
the repository root (``--data`` to change).  Each algorithm's result is cached in
``examples/results/mnist/<algo>.json`` (so the study can be split across processes with
``--only`` and resumed); the table is rebuilt from the cache into
``examples/results/mnist_all_algorithms.{csv,md}``.

    python examples/mnist_all_algorithms.py                 # all algorithms, 3 epochs
    python examples/mnist_all_algorithms.py --only sgd,agad --epochs 1
    python examples/mnist_all_algorithms.py --table-only    # rebuild the table from the cache
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:            # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "examples" / "results"
CACHE = RESULTS / "mnist"
MNIST = {"name": "mnist", "path": "../../shared/data/mnist"}     # relative to configs/
NETWORK = [{"linear": 256, "activation": "sigmoid"}, {"linear": 128, "activation": "sigmoid"},
           {"linear": 10}]

#: algorithm -> (experiment file in configs/, overrides that make it the MNIST MLP experiment)
EXPERIMENTS = {
    "float": ("mnist_mlp_sgd.yaml", {"name": "mnist-mlp-float", "training.algorithm": "float",
                                     "training.params": {}}),
    "sgd": ("mnist_mlp_sgd.yaml", {}),
    "tiki-taka": ("mnist_mlp_tiki_taka.yaml", {}),
    "ttv2": ("mnist_mlp_ttv2.yaml", {}),
    "c-ttv2": ("mnist_mlp_c_ttv2.yaml", {}),
    "agad": ("mnist_mlp_agad.yaml", {}),
    "mixed-precision": ("mnist_mlp_mixed_precision.yaml", {}),
    "hic": ("digits_hic.yaml", {"name": "mnist-mlp-hic", "workload.dataset": MNIST,
                                "workload.network": NETWORK}),
    "sbpca": ("digits_sbpca.yaml", {"name": "mnist-mlp-sbpca", "workload.dataset": MNIST,
                                    "workload.network": NETWORK}),
}

COLUMNS = ("algorithm", "epochs", "samples_per_epoch", "test_accuracy", "accuracy_per_epoch",
           "latency_per_sample_us", "energy_per_sample_uJ", "hw_time_s", "energy_J",
           "wall_time_s", "accelerator", "lr", "params", "note")


def run_one(algo: str, epochs: int, seed: int, data_dir=None) -> dict:
    """Train ``algo`` on the MNIST MLP through the runner; the row of the table."""
    from hwsim.config.experiment import load_experiment
    from hwsim.energy.table import UnpricedError
    from hwsim.report.runs import run_report
    from hwsim.training.runner import run_experiment

    fname, overrides = EXPERIMENTS[algo]
    ov = dict(overrides)
    ov.update({"training.epochs": epochs, "run.seed": seed, "run.progress": False,
               "run.checkpoint": False, "run.timing": True,
               "run.out": str(ROOT / "runs" / "studies" / "mnist" / algo)})
    cfg = load_experiment(str(ROOT / "configs" / fname), ov)
    t0 = time.perf_counter()
    # the study re-measures: its own scratch run directory is overwritten (the result is
    # cached in examples/results/mnist/<algo>.json)
    result = run_experiment(cfg, data_dir=data_dir, force=True)
    wall = time.perf_counter() - t0
    samples = sum(h["samples"] for h in result.history)
    hw_time = result.timing["ticks"] * 1e-12                 # the engine counts picoseconds
    energy, note = None, ""
    try:
        rep = run_report(result)
        energy = rep["energy"]["total_J"]
        hw_time = rep["latency"]["total_s"]
    except UnpricedError as exc:        # an op the technology table cannot price: say so
        note = f"energy not priced: {exc.args[0] if exc.args else exc}"
    acc = cfg.accelerator if isinstance(cfg.accelerator, str) else cfg.accelerator.get("name")
    row = {"algorithm": algo, "epochs": epochs,
           "samples_per_epoch": result.history[-1]["samples"],
           "test_accuracy": result.history[-1]["test_accuracy"],
           "accuracy_per_epoch": [round(h["test_accuracy"], 4) for h in result.history],
           "latency_per_sample_us": hw_time / samples * 1e6,
           "energy_per_sample_uJ": energy / samples * 1e6 if energy is not None else None,
           "hw_time_s": hw_time, "energy_J": energy,
           "wall_time_s": wall, "accelerator": acc, "lr": cfg.training.lr,
           "params": dict(cfg.training.params), "note": note}
    if result.drift is not None:
        row["drift_accuracy"] = {k: v["accuracy"] for k, v in result.drift.items()}
    return row


def write_table(rows: list[dict]) -> list[Path]:
    """examples/results/mnist_all_algorithms.{csv,md} from the cached rows."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    order = {a: i for i, a in enumerate(EXPERIMENTS)}
    rows = sorted(rows, key=lambda r: order.get(r["algorithm"], 99))
    csv_path, md_path = RESULTS / "mnist_all_algorithms.csv", RESULTS / "mnist_all_algorithms.md"
    with open(csv_path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                        for k, v in r.items()})
    lines = ["| algorithm | test acc. | acc. per epoch | latency / sample | energy / sample "
             "| wall time |",
             "|---|---:|---|---:|---:|---:|"]
    for r in rows:
        per = " / ".join(f"{a:.3f}" for a in r["accuracy_per_epoch"])
        e = r.get("energy_per_sample_uJ")
        energy = f"{e:.3g} µJ" if e is not None else "not priced¹"
        lines.append(f"| {r['algorithm']} | {r['test_accuracy']:.4f} | {per} | "
                     f"{r['latency_per_sample_us']:.3g} µs | {energy} | "
                     f"{r['wall_time_s']:.0f} s |")
    epochs = sorted({r["epochs"] for r in rows})
    n = sorted({r["samples_per_epoch"] for r in rows})
    lines += ["", f"MNIST t10k split {n} train samples per epoch / 2000 test, MLP 784-256-128-10 "
              f"(sigmoid), batch 10, seed 0, {', '.join(map(str, epochs))} epoch(s); latency and "
              f"energy per training sample over the whole run (timing on, cached engine); wall "
              f"time on a shared 2-core machine."]
    notes = [f"{r['algorithm']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        lines += ["", "¹ " + "; ".join(notes)]
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated algorithms (default: all)")
    ap.add_argument("--data", default=None, help="MNIST directory (default: the configs' path)")
    ap.add_argument("--table-only", action="store_true", help="rebuild the table from the cache")
    args = ap.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    algos = [a for a in args.only.split(",") if a] or list(EXPERIMENTS)
    unknown = [a for a in algos if a not in EXPERIMENTS]
    if unknown:
        raise SystemExit(f"unknown algorithm(s) {unknown}; known: {list(EXPERIMENTS)}")
    if not args.table_only:
        for algo in algos:
            print(f"[{algo}] training {args.epochs} epoch(s) ...", flush=True)
            row = run_one(algo, args.epochs, args.seed, args.data)
            (CACHE / f"{algo}.json").write_text(json.dumps(row, indent=1))
            print(f"[{algo}] acc {row['test_accuracy']:.4f}  {row['latency_per_sample_us']:.3g} "
                  f"µs/sample  {row['energy_per_sample_uJ']} µJ/sample  "
                  f"wall {row['wall_time_s']:.0f} s {row['note']}", flush=True)
    rows = [json.loads(p.read_text()) for p in sorted(CACHE.glob("*.json"))]
    for p in write_table(rows):
        print("wrote", p.relative_to(ROOT))


if __name__ == "__main__":
    main()
