"""Cost of op timing in training: replay one MNIST epoch's ops through the timing cache.

Trains one epoch of configs/mnist_mlp_<algo>.yaml (MNIST t10k, ``--samples`` training
samples, batch 10) with timing on, recording every op the run issues and where each
mini-batch ends; then executes that op stream ``--repeats`` times on a fresh machine
with the exact op memo (:class:`hwsim.sim.memo.OpMemo`), flushing after
every mini-batch as the runner does.  Prints the median replay time, the cost per op
and the cache's hits and misses, and checks that every replay ends at the same tick.
This isolates ``hw.flush`` of bench_training.py from the physics.

    python benchmarks/bench_op_timing.py [--algos sgd,c-ttv2] [--samples 8000] [--repeats 3]

The hwsim imported is the one on ``PYTHONPATH``, else an installed one, else this tree's;
to compare two trees, run this script with ``PYTHONPATH`` pointing at each in turn (the
configs and data come from this tree; the op stream is the same when the physics is
bit-identical between the trees).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))      # after PYTHONPATH and site-packages: PYTHONPATH=other/tree wins


def _hardware(prep, recorder=None):
    """A fresh machine for ``prep`` with the timing cache (as bench_training builds it)."""
    from hwsim.elaborate.graph import build_machine
    from hwsim.elaborate.mapping import map_layers
    from hwsim.sim.hardware import Hardware
    acc = prep.accelerator
    shapes = [(s.name, s.out_features, s.in_features) for s in prep.network.layer_shapes()]
    mapping = map_layers(shapes, prep.algorithm.ROLES, acc.tile.rows, acc.tile.cols,
                         acc.tile.count)
    return Hardware(build_machine(acc), mapping, recorder=recorder, cache=acc.engine.cache)


class _Recorder:
    """Op sink of a Hardware (its ``recorder``): the ops and the mini-batch ends."""

    def __init__(self):
        self.steps, self.ops = [], []

    def record(self, op):
        self.ops.append(op)

    def end_step(self, samples):
        self.steps.append((self.ops, samples))
        self.ops = []


def record(algo: str, samples: int):
    from hwsim.config.experiment import load_experiment
    from hwsim.training.runner import prepare, stream, train_epoch
    cfg = load_experiment(str(ROOT / "configs" / f"mnist_mlp_{algo.replace('-', '_')}.yaml"))
    prep = prepare(cfg)
    ds = prep.dataset
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:samples],
                                       train_y=ds.train_y[:samples])
    rec = _Recorder()
    hw = _hardware(prep, rec)
    prep.context.hw = hw
    train_epoch(prep, hw, stream(0, "data"))
    return prep, rec.steps


def replay(prep, steps) -> tuple[float, int, dict]:
    hw = _hardware(prep)
    t = time.perf_counter()
    for ops, samples in steps:
        for op in ops:
            hw.issue(op)
        hw.end_step(samples)
        hw.flush()
    wall = time.perf_counter() - t
    hw.sync()
    return wall, hw.now, hw.cache.stats()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--algos", default="sgd,c-ttv2")
    ap.add_argument("--samples", type=int, default=8000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        for algo in a.algos.split(","):
            prep, steps = record(algo, a.samples)
            runs = [replay(prep, steps) for _ in range(a.repeats)]
            if len({r[1] for r in runs}) != 1:
                raise SystemExit(f"{algo}: replays ended at different ticks {[r[1] for r in runs]}")
            ops = sum(len(o) for o, _ in steps)
            wall = statistics.median(r[0] for r in runs)
            st = runs[-1][2]
            print(f"{algo:16s} {ops:6d} ops  replay {wall:6.3f} s (median of {a.repeats}; "
                  f"{min(r[0] for r in runs):.3f}–{max(r[0] for r in runs):.3f})  "
                  f"{1e6 * wall / ops:5.1f} µs/op  hits {st['hits']} misses {st['misses']}",
                  flush=True)


if __name__ == "__main__":
    main()
