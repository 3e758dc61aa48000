"""Wall time per 8k-sample epoch of the MNIST MLP 784-256-128-10 (batch 10), per algorithm.

Runs one epoch of configs/mnist_mlp_<algo>.yaml (MNIST t10k: 8000 training samples)
with timing and energy on (ops executed on the SimPy engine after every batch) and
prints the wall time, the share spent in ``hw.flush`` and the ratio to analog SGD
measured in the same run.  Targets: c-TTv2 ≤ 3.5 s, SGD ≤ 1.5 s per 8k samples.

    python benchmarks/bench_training.py [--samples 8000] [--repeats 1] [--no-timing]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ALGOS = ("sgd", "ttv2", "c-ttv2", "agad", "mixed-precision")


def _hardware(prep):
    from hwsim.build.graph import build_machine
    from hwsim.build.mapping import map_layers
    from hwsim.sim.hardware import Hardware
    acc = prep.accelerator
    shapes = [(s.name, s.out_features, s.in_features) for s in prep.network.layer_shapes()]
    mapping = map_layers(shapes, prep.algorithm.ROLES, acc.tile.rows, acc.tile.cols,
                         acc.tile.count)
    return Hardware(build_machine(acc), mapping, cache=acc.engine.cache)


class _Timed:
    """Wraps hw.flush to measure the time spent executing ops."""

    def __init__(self, hw):
        self.hw, self.flush_s = hw, 0.0

    def __getattr__(self, name):
        return getattr(self.hw, name)

    def flush(self):
        t = time.perf_counter()
        r = self.hw.flush()
        self.flush_s += time.perf_counter() - t
        return r


def run(algo: str, samples: int, timing: bool) -> tuple[float, float]:
    from hwsim.config.experiment import load_experiment
    from hwsim.training.runner import prepare, stream, train_epoch
    from hwsim.training.algorithms.base import NullHardware
    cfg = load_experiment(str(ROOT / "configs" / f"mnist_mlp_{algo.replace('-', '_')}.yaml"))
    prep = prepare(cfg)
    import dataclasses
    ds = prep.dataset
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:samples],
                                       train_y=ds.train_y[:samples])
    hw = _Timed(_hardware(prep)) if timing else NullHardware()
    prep.context.hw = hw
    t = time.perf_counter()
    train_epoch(prep, hw, stream(0, "data"))
    return time.perf_counter() - t, (hw.flush_s if isinstance(hw, _Timed) else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--algos", default=",".join(ALGOS))
    a = ap.parse_args()
    res = {}
    for algo in a.algos.split(","):
        runs = [run(algo, a.samples, not a.no_timing) for _ in range(a.repeats)]
        wall = statistics.median(r[0] for r in runs) * 8000 / a.samples
        fl = statistics.median(r[1] for r in runs) * 8000 / a.samples
        res[algo] = wall
        print(f"{algo:16s} {wall:7.2f} s / 8k samples   (hw.flush {fl:6.2f} s)", flush=True)
    if "sgd" in res:
        for algo, w in res.items():
            print(f"{algo:16s} ratio to sgd {w / res['sgd']:5.2f}")


if __name__ == "__main__":
    main()
