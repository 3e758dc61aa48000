"""Training wall time of two source trees, measured alternately in one sitting.

This VM's speed drifts by ±20 % within minutes, so a before/after ratio is only
meaningful when both trees run back to back.  For every algorithm, ``--rounds`` times:
run ``benchmarks/bench_training.py --samples S --repeats 1 --algos <algo>`` of tree A,
then of tree B, each in a fresh process with that tree on ``PYTHONPATH``.  Prints the
median and range of each tree and the ratio of the medians.

    python benchmarks/bench_training_ab.py BASE_TREE NEW_TREE [--rounds 5]
           [--algos sgd,ttv2,c-ttv2,agad,mixed-precision] [--samples 8000]

A tree is a source checkout with its kernels built in place, e.g.
``git worktree add /tmp/base <commit> && (cd /tmp/base && python setup.py build_ext
--inplace)``; its configs must find the MNIST files (``../shared/data/mnist`` relative
to the tree's parent).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ALGOS = "sgd,ttv2,c-ttv2,agad,mixed-precision"


def one_run(tree: Path, algo: str, samples: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "benchmarks/bench_training.py", "--samples",
                          str(samples), "--repeats", "1", "--algos", algo],
                         cwd=tree, env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == algo and "samples" in line:
            return float(parts[1])
    raise RuntimeError(f"{tree}: no timing for {algo} in\n{out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--algos", default=ALGOS)
    ap.add_argument("--samples", type=int, default=8000)
    a = ap.parse_args()
    print(f"{'algorithm':16s} {'base s/8k (range)':>24s} {'new s/8k (range)':>24s}  speed-up")
    for algo in a.algos.split(","):
        runs = {a.base: [], a.new: []}
        for _ in range(a.rounds):
            for tree in (a.base, a.new):
                runs[tree].append(one_run(tree.resolve(), algo, a.samples))
        med = {t: statistics.median(v) for t, v in runs.items()}
        cols = [f"{med[t]:6.2f} ({min(v):.2f}–{max(v):.2f})" for t, v in runs.items()]
        print(f"{algo:16s} {cols[0]:>24s} {cols[1]:>24s}  {med[a.base] / med[a.new]:5.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
