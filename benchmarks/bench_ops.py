"""Simulated operations per second for one 3-layer MLP mini-batch program, burst vs item
(fine) mode, with and without the timing cache — measured in the same run.

The program is what analog SGD issues for one mini-batch of 10 samples of the MNIST MLP
784-256-128-10 on configs/accelerators/analog_tile.yaml (forward, backward, pulsed
update per layer, digital activations and loss gradient), with fixed statistics.

    PYTHONPATH=. python benchmarks/bench_ops.py [--batches 50] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.config.accelerator import load_accelerator
from hwsim.sim.hardware import Hardware

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [("fc1", 256, 784), ("fc2", 128, 256), ("fc3", 10, 128)]


def program(hw, batch=10):
    for name, m, n in LAYERS:
        hw.forward(name, batch, sum_gv2=100.0)
        hw.digital("activation", batch * m, layer=name)
    hw.digital("loss_grad", batch * 10, phase="backward")
    for name, m, n in reversed(LAYERS[1:]):
        hw.backward(name, batch, sum_gv2=50.0)
    for name, m, n in LAYERS:
        hw.update(name, 40, pulses=2000, row_slots=m * 4, col_slots=n * 4, samples=batch)
    hw.end_step(batch)


def run(granularity: str, cache: bool, batches: int) -> tuple[float, int, int]:
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "analog_tile.yaml"))
    mapping = map_layers(LAYERS, ("W",), acc.tile.rows, acc.tile.cols, acc.tile.count)
    hw = Hardware(build_machine(acc), mapping, granularity=granularity, cache=cache)
    t = time.perf_counter()
    for _ in range(batches):
        program(hw)
        hw.flush()
    hw.sync()
    return time.perf_counter() - t, hw.ops_executed, hw.now


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"3-layer MLP program, {args.batches} mini-batches, median of {args.repeats}")
    print(f"{'mode':>6} {'cache':>6} {'ops':>7} {'wall s':>8} {'ops/s':>9} {'sim time':>12}")
    ref = None
    for gran in ("burst", "item"):
        for cache in (False, True):
            walls, ops, ticks = [], 0, 0
            for _ in range(args.repeats):
                w, ops, ticks = run(gran, cache, args.batches)
                walls.append(w)
            w = statistics.median(walls)
            if ref is None:
                ref = ticks
            same = "same" if ticks == ref else f"DIFFERS ({ticks})"
            print(f"{gran:>6} {str(cache):>6} {ops:7d} {w:8.3f} {ops / w:9.0f} "
                  f"{ticks / 1e6:9.3f} us {same}")


if __name__ == "__main__":
    main()
