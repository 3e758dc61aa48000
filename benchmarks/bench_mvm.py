"""Benchmark: MVM through the full periphery vs the bare BLAS product.

512×512 weights, batch 64, default ``MVMConfig`` (noise management, 7-bit DAC,
output noise 0.06, 9-bit ADC, iterative bound management), Cython and NumPy
backends, against ``X @ W.T`` measured in the same run; plus the quantizer kernel
against its NumPy twin.  Medians of repeated runs, interleaved to share drifts.

    python benchmarks/bench_mvm.py [--repeats 200] [--blas-threads 1]

(after `pip install .`, or with PYTHONPATH=. and the kernels built in place).
Target: full periphery ≤ 2× the bare product.
"""
from __future__ import annotations

import argparse
import os
import time


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(cases: dict, repeats: int) -> tuple[dict, dict]:
    """(median, min) seconds per case; cases run interleaved, after one warm-up each.

    The minimum is printed too: on a shared machine the median carries the other
    processes' load, the minimum is the kernel's own cost.
    """
    for fn in cases.values():
        fn()
    samples = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            samples[name].append(_time(fn))
    return ({name: sorted(s)[len(s) // 2] for name, s in samples.items()},
            {name: min(s) for name, s in samples.items()})


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="pin BLAS threads (set before numpy is imported); default: BLAS's own")
    args = ap.parse_args(argv)
    if args.blas_threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    import numpy as np

    from hwsim.config.periphery import MVMConfig
    from hwsim.physics import quantize as qz
    from hwsim.physics.periphery import mvm

    rng = np.random.default_rng(0)
    n = args.size
    w = rng.uniform(-0.6, 0.6, (n, n)) / np.sqrt(n / 64)   # outputs mostly inside ±out_bound
    x = rng.uniform(-1.0, 1.0, (args.batch, n))
    cfg = MVMConfig()
    noise_rng = np.random.default_rng(1)
    _, stats = mvm(w, x, cfg, noise_rng)
    print(f"MVM {n}x{n}, batch {args.batch}, default periphery: {stats}")

    t = bench({
        "bare W@X": lambda: x @ w.T,
        "mvm cython": lambda: mvm(w, x, cfg, noise_rng),
        "mvm numpy": lambda: mvm(w, x, cfg, noise_rng, backend="numpy"),
        "mvm transposed cython": lambda: mvm(w, x, cfg, noise_rng, transposed=True),
    }, args.repeats)
    t, t_min = t
    print(f"  {'':24s} {'median':>12s} {'ratio':>7s} {'min':>12s} {'ratio':>7s}")
    for name, sec in t.items():
        print(f"  {name:24s} {sec * 1e6:9.1f} us {sec / t['bare W@X']:6.2f}x "
              f"{t_min[name] * 1e6:9.1f} us {t_min[name] / t_min['bare W@X']:6.2f}x")

    xq = rng.uniform(-1.5, 1.5, (args.batch, n))
    tq = bench({
        "quantize cython": lambda: qz.clip_quantize(xq, 1.0, 7),
        "quantize numpy": lambda: qz.clip_quantize(xq, 1.0, 7, backend="numpy"),
    }, args.repeats)[0]
    print(f"clip+quantize ({args.batch}x{n}, 7 bit): cython {tq['quantize cython'] * 1e6:.1f} us, "
          f"numpy {tq['quantize numpy'] * 1e6:.1f} us, speed-up "
          f"{tq['quantize numpy'] / tq['quantize cython']:.1f}x")


if __name__ == "__main__":
    main()
