"""Fused χ kernel of mixed precision vs its NumPy oracle, per call (one layer, one batch).

Shapes of the MNIST MLP 784-256-128-10: fc1 256×784, fc2 128×256.  χ is a 32-bit word
with 8 fractional bits below ε (the defaults), ε = 0.002, max_pulses 31; the batch
gradient g ~ N(0, 0.3²) on half of the elements (sparse-ish, like ReLU/sigmoid inputs),
coefficient −0.01 (≈ 30 % of the elements cross ε per call; printed).  χ carries
over between calls.  The time covers the wrapper (validation included), not ``dᵀx``.

    python benchmarks/bench_mixed_precision.py [--repeats 50]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from hwsim.training.digital_accumulator import chi_update  # noqa: E402

SHAPES = {"fc1": (256, 784), "fc2": (128, 256)}


def _per_call(shape, backend, repeats, chi_bits):
    rng = np.random.default_rng(0)
    grads = [rng.normal(0, 0.3, shape) * (rng.random(shape) < 0.5) for _ in range(4)]
    chi, acc, wr = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    times, writes = [], []
    for r in range(repeats + 3):                    # 3 warm-up calls
        t = time.perf_counter()
        res = chi_update(chi, grads[r % 4], -0.01, acc, wr, 0.002, chi_bits=chi_bits,
                         chi_frac_bits=8, max_pulses=31, backend=backend)
        dt = time.perf_counter() - t
        if r >= 3:
            times.append(dt)
            writes.append(res.writes)
    return statistics.median(times), statistics.median(writes)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=50)
    a = ap.parse_args(argv)
    for chi_bits in (32, 0):
        for name, shape in SHAPES.items():
            tc, wc = _per_call(shape, "cython", a.repeats, chi_bits)
            tn, wn = _per_call(shape, "numpy", a.repeats, chi_bits)
            assert wc == wn
            print(f"chi_bits {chi_bits:2d}  {name} {shape[0]}×{shape[1]}:  cython "
                  f"{tc * 1e3:7.3f} ms  numpy {tn * 1e3:7.3f} ms  ratio {tn / tc:5.1f}×  "
                  f"(median crossings {wc:.0f} of {shape[0] * shape[1]})")


if __name__ == "__main__":
    main()
