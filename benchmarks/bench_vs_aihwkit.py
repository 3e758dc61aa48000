"""hwsim vs IBM aihwkit: wall time of one training epoch, side by side (issue 17).

For each algorithm, runs one epoch of hwsim (timing and energy on, as
benchmarks/bench_training.py: configs/mnist_mlp_<algo>.yaml, MNIST t10k, 8000 training
samples, MLP 784-256-128-10 sigmoid, batch 10, one BLAS thread) and one epoch of aihwkit
on the same samples (benchmarks/_aihwkit_child.py, run by ``--aihwkit-python``:
``build_config(algo, SoftBoundsReferenceDevice())``, AnalogLinear layers, AnalogSGD,
``torch.set_num_threads(1)``), alternately A B A B for ``--rounds`` rounds, each in a
fresh process, and prints per-algorithm medians, ranges, the ratio hwsim / aihwkit and
each side's test accuracy on the 2000 held-out samples (a sanity check: the two
simulate different periphery and hyperparameters).  Only the epoch loop is timed on
both sides (no imports, no set-up, no test), as wall time and as CPU time (a loaded
machine inflates wall times of both sides far more than CPU times).

    python benchmarks/bench_vs_aihwkit.py --aihwkit-python VENV/bin/python [--rounds 3]
        [--samples 8000] [--algos sgd,c-ttv2,agad,mixed-precision] [--lenet]
    python benchmarks/bench_vs_aihwkit.py --floor [--samples 8000] [--algos ...] [--lenet]

``--lenet``: conv 1→16 k5, max-pool 2, conv 16→32 k5, max-pool 2, fc 512→128→10, tanh,
batch 8, 512×512 tiles (hwsim: the algorithm's MNIST config with that network; weight
scale 2 and 0.2 × the MLP learning rate, as configs/mnist_lenet5_sgd.yaml vs the MLP).

``--floor`` (hwsim only, see benchmarks/_vs_aihwkit_floor.py): the physical floor of the epoch on
this machine and how far the measured epoch is from it.

aihwkit is a measuring stick, never a dependency of hwsim: install torch and aihwkit in
a scratch virtual environment outside the project (BENCHMARKS.md says how).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.append(str(ROOT))          # after PYTHONPATH: PYTHONPATH=other/tree wins
ALGOS = ("sgd", "c-ttv2", "agad", "mixed-precision")
LENET = [{"conv": {"out": 16, "kernel": 5}, "activation": "tanh"},
         {"pool": {"kind": "max", "size": 2}},
         {"conv": {"out": 32, "kernel": 5}, "activation": "tanh"},
         {"pool": {"kind": "max", "size": 2}},
         {"flatten": True},
         {"linear": 128, "activation": "tanh"},
         {"linear": 10}]


def experiment(algo: str, lenet: bool):
    """The hwsim experiment of ``algo``: the shipped MNIST MLP config, or its LeNet."""
    from hwsim.config.experiment import load_experiment
    from hwsim.config.yamlio import load_yaml
    path = ROOT / "configs" / f"mnist_mlp_{algo.replace('-', '_')}.yaml"
    if not lenet:
        return load_experiment(str(path))
    raw = load_yaml(str(path))["training"]
    return load_experiment(str(path), {
        "accelerator.tile.rows": 512, "accelerator.tile.cols": 512,
        "workload.network": LENET, "workload.dataset.flatten": False,
        "training.batch": 8, "training.lr": 0.2 * float(raw["lr"]),
        "training.params.weight_scale": 2})


def prepared(algo: str, samples: int, lenet: bool):
    """``prepare`` of the experiment with the first ``samples`` training samples."""
    from hwsim.training.runner import prepare
    prep = prepare(experiment(algo, lenet))
    ds = prep.dataset
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:samples],
                                       train_y=ds.train_y[:samples])
    return prep


def hwsim_epoch(algo: str, samples: int, lenet: bool, on_trained=None) -> dict:
    """One hwsim epoch with timing and energy on (bench_training.py's calls); the
    epoch's wall time, test accuracy and the hardware (for its ledger).  ``on_trained()``
    runs after the epoch, before the test."""
    from bench_training import _hardware, _Timed
    from hwsim.training.runner import evaluate, stream, train_epoch
    t0 = time.perf_counter()
    prep = prepared(algo, samples, lenet)
    hw = _Timed(_hardware(prep))
    prep.context.hw = hw
    setup_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    loss, seen = train_epoch(prep, hw, stream(0, "data"))
    train_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    if on_trained is not None:
        on_trained()
    _, acc = evaluate(prep)
    return {"train_s": train_s, "cpu_s": cpu_s, "setup_s": setup_s, "test_acc": float(acc),
            "loss": float(loss), "samples": seen, "flush_s": hw.flush_s,
            "prep": prep, "hw": hw.hw}


def _child_json(cmd: list, env=None) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        raise SystemExit(f"bench_vs_aihwkit: {' '.join(map(str, cmd))} failed "
                         f"(exit {r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(lines[-1])


def _env() -> dict:
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[v] = "1"
    return env


def run_hwsim(algo: str, samples: int, lenet: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_hwsim-child", algo,
           "--samples", str(samples)] + (["--lenet"] if lenet else [])
    return _child_json(cmd, _env())


def run_aihwkit(python: str, data: str, algo: str, lenet: bool, lr: float) -> dict:
    cmd = [python, str(HERE / "_aihwkit_child.py"), data, algo, "--lr", str(lr)]
    return _child_json(cmd + (["--lenet"] if lenet else []), _env())


def write_data(path: str, samples: int, lenet: bool) -> None:
    """The hwsim experiment's own training and test samples (same split, same order of
    the files), for the aihwkit child."""
    import numpy as np
    from hwsim.training.datasets import load_dataset
    from hwsim.training.runner import stream
    cfg = experiment("sgd", lenet)
    ds = load_dataset(cfg.workload.dataset, stream(cfg.run.seed, "data-split"), None,
                      key="workload.dataset", base_dir=os.path.dirname(cfg.file))
    np.savez(path, train_x=ds.train_x[:samples].astype(np.float32), train_y=ds.train_y[:samples],
             test_x=ds.test_x.astype(np.float32), test_y=ds.test_y)


def _span(xs) -> str:
    return f"{statistics.median(xs):6.2f} ({min(xs):.2f}–{max(xs):.2f})"


def compare(a) -> None:
    scale = 8000 / a.samples
    what = "LeNet, batch 8" if a.lenet else "MLP 784-256-128-10, batch 10"
    print(f"hwsim vs aihwkit, MNIST {what}, {a.samples} samples per epoch (s scaled to 8k), "
          f"{a.rounds} rounds alternating; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs", flush=True)
    rows, versions = [], None
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "mnist.npz")
        write_data(data, a.samples, a.lenet)
        for algo in a.algos.split(","):
            h, k = [], []
            for r in range(a.rounds):
                h.append(run_hwsim(algo, a.samples, a.lenet))
                k.append(run_aihwkit(a.aihwkit_python, data, algo, a.lenet, a.aihwkit_lr))
                versions = k[-1]["versions"]
                print(f"  {algo} round {r + 1}: hwsim {h[-1]['train_s'] * scale:.2f} s "
                      f"({h[-1]['cpu_s'] * scale:.2f} s CPU), aihwkit "
                      f"{k[-1]['train_s'] * scale:.2f} s ({k[-1]['cpu_s'] * scale:.2f} s CPU)",
                      flush=True)
            rows.append((algo, h, k))
    print(f"\naihwkit {versions['aihwkit']}, torch {versions['torch']}, Python "
          f"{versions['python']} (child); hwsim from {ROOT}; load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    for clock, key in (("wall", "train_s"), ("CPU", "cpu_s")):
        print(f"\n{clock} time, s per 8k samples: median (range)")
        print(f"{'algorithm':16s} {'hwsim':>22s} {'aihwkit':>22s} {'ratio':>6s} "
              f"{'per round':>12s} {'acc hwsim':>10s} {'acc aihwkit':>12s}")
        for algo, h, k in rows:
            hs = [x[key] * scale for x in h]
            ks = [x[key] * scale for x in k]
            rr = [x / y for x, y in zip(hs, ks)]
            print(f"{algo:16s} {_span(hs):>22s} {_span(ks):>22s} "
                  f"{statistics.median(hs) / statistics.median(ks):6.2f} "
                  f"{min(rr):5.2f}–{max(rr):.2f} {100 * h[-1]['test_acc']:9.1f}% "
                  f"{100 * k[-1]['test_acc']:11.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--aihwkit-python", help="a Python that can import aihwkit and torch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=8000)
    ap.add_argument("--algos", default=",".join(ALGOS))
    ap.add_argument("--lenet", action="store_true")
    ap.add_argument("--aihwkit-lr", type=float, default=0.1,
                    help="AnalogSGD learning rate of the aihwkit side")
    ap.add_argument("--floor", action="store_true",
                    help="print the physical floor of an hwsim epoch instead")
    ap.add_argument("--_hwsim-child", dest="hwsim_child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.hwsim_child:
        r = hwsim_epoch(a.hwsim_child, a.samples, a.lenet)
        print(json.dumps({k: v for k, v in r.items() if k not in ("prep", "hw")}))
    elif a.floor:
        from _vs_aihwkit_floor import floor_report
        for algo in a.algos.split(","):
            floor_report(algo, a.samples, a.lenet)
    elif not a.aihwkit_python:
        ap.error("--aihwkit-python is required (or --floor)")
    else:
        compare(a)


if __name__ == "__main__":
    main()
