"""Benchmark: design points per minute of the ResNet-32 tile sweep, 1 vs 2 local workers.

Runs a subset of ``configs/sweeps/resnet32_tiles.yaml`` (ResNet-32/CIFAR-10 c-TTv2
training step replayed per point) through :func:`hwsim.sweep.runner.run_sweep`, once
with ``--workers 1`` and once with ``--workers 2``, each into a fresh output
directory (no resume), interleaved over ``--repeats``; prints the median wall time,
points per minute and the speed-up of 2 workers over 1 (target ≥ 1.8×).  The wall
time includes everything a user waits for: process start, imports in each worker,
every replay, the JSON-lines log with fsync and the CSV/JSON outputs (no plots).

The same run also measures the machine's own ceiling: a pure-Python busy loop in one
process, then in two processes at once (throughput ratio).  On a host whose two
CPUs are hyperthreads of one core, or that other jobs share, this ceiling is below
2× and no sweep runner can beat it; compare the sweep's speed-up with it.

The subset is every ``--stride``-th point of the 175 in grid order (default 22 →
8 points covering every tile size), or ``--points N`` first points of that order.

    PYTHONPATH=. python benchmarks/bench_sweep.py [--stride 22] [--repeats 1]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
import statistics
import tempfile
import time
from pathlib import Path

from hwsim.sweep.runner import run_sweep
from hwsim.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "configs" / "sweeps" / "resnet32_tiles.yaml"


def timed_run(spec, workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as d:
        t0 = time.perf_counter()
        rows = run_sweep(spec, d, workers=workers, progress=False, plots=False)
        wall = time.perf_counter() - t0
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        raise SystemExit(f"{len(bad)} points failed: {bad[0]['error']}")
    return wall


def _busy(n: int) -> float:
    t0 = time.perf_counter()
    acc = 0
    for i in range(n):
        acc += i * i % 7
    return time.perf_counter() - t0


def cpu_ceiling(n: int = 6_000_000) -> float:
    """Throughput of 2 concurrent busy processes over 1 (2.0 on two free cores)."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        one = pool.submit(_busy, n).result()
        two = max(f.result() for f in [pool.submit(_busy, n) for _ in range(2)])
    return 2 * one / two


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stride", type=int, default=22, help="take every n-th grid point")
    ap.add_argument("--points", type=int, help="limit to the first N selected points")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    spec = load_sweep(str(SWEEP))
    pts = spec.points[::args.stride][:args.points]
    spec = dataclasses.replace(spec, points=tuple(pts))
    sizes = sorted({p.params["tile.rows"] for p in pts})
    print(f"{SWEEP.name}: {len(pts)} of 175 points (tile sizes {sizes}); "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    walls = {1: [], 2: []}
    ceilings = []
    for _ in range(args.repeats):
        ceilings.append(cpu_ceiling())
        for w in (1, 2):
            walls[w].append(timed_run(spec, w))
            print(f"  workers={w}: {walls[w][-1]:.1f} s")
        ceilings.append(cpu_ceiling())
    med = {w: statistics.median(v) for w, v in walls.items()}
    for w in (1, 2):
        print(f"workers={w}: median {med[w]:.1f} s -> {60 * len(pts) / med[w]:.1f} points/min "
              f"({med[w] / len(pts):.2f} s/point)")
    print(f"speed-up 2 vs 1 workers: {med[1] / med[2]:.2f}x (target >= 1.8x); machine ceiling "
          f"(busy loop, 2 vs 1 processes, before/after): "
          f"{', '.join(f'{c:.2f}x' for c in ceilings)}; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
