"""Benchmark of the pulsed update on training-shaped calls (MNIST MLP 784-256-128-10).

One call of ``pulsed_update`` per layer and mini-batch of 10, as the trainer makes it:
stochastic_compressed trains, BL_max 31 with update management, SoftBounds devices
(model code 1, c2c σ 0.3, not lumped), pulse counting on.  Inputs x ≥ 0 (pixels /
ReLU activations, ~20 % non-zero for the first layer), errors d ~ N(0, s²).  Two learning
rates: η = 0.125 ("SGD", BL 1–2 on fc1/fc2) and η ≈ 0.7/0.25/0.04 ("c-TTv2" fast array,
BL 3–4).  Prints the median full-call time, the kernel-only time (fresh stream keys per
call, as in training), the compiled plan, the fixed cost (full − kernel) and, in the same
run, the AVX-512 row loop against the scalar loop (``kernel.simd(False)``); single thread.
``--cold`` adds the kernel time after a 40 MB sweep before every call (the caches as the
forward and backward passes of training leave them) and the kernel's fixed part (the
same call with all thresholds zero: no pulse).  Then a Tiki-Taka transfer write: 10 of
784 columns of a 256×784 array, as the (M, N) count matrix the caller builds (zeros +
column assignment + ``apply_pulses``) against the column-restricted
``apply_pulses(..., cols=)``; and the packing of the trains of 10 samples × 1 040 lines at
BL 31 (40 % of the lines silent), AVX-512 against the scalar loop.

    python benchmarks/bench_update_training.py [--repeats 200] [--cold]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from _timing import median_time  # noqa: E402

from hwsim.devices import DeviceConfig
from hwsim.config.update import UpdateConfig# noqa: E402
from hwsim.physics import update as U  # noqa: E402
from hwsim.physics.device_array import DeviceArray  # noqa: E402
from hwsim.physics.pulse_trains import plan_stochastic_trains  # noqa: E402

_KEYS = np.random.default_rng(9).integers(0, 2**63, size=(4096, 3)).tolist()

LAYERS = ((256, 784, 0.2), (128, 256, 0.5), (10, 128, 0.6))   # rows, cols, x density
RATES = {"sgd": (0.125, 0.125, 0.125), "c-ttv2": (0.71, 0.25, 0.04)}


def _call(rows, cols, density, lr, seed):
    g = np.random.default_rng(seed)
    cfg = DeviceConfig(model="soft_bounds", dw_min_std=0.3, count_pulses=True)
    arr = DeviceArray(cfg, (rows, cols), g)
    arr.set_weights(g.uniform(-0.3, 0.3, (rows, cols)))
    x = g.random((10, cols)) * (g.random((10, cols)) < density)
    d = 0.004 * g.standard_normal((10, rows))
    return arr, x, d, lr


_SWEEP = None


def _sweep():
    """Read 40 MB: evicts the arrays of one call from L1/L2 (and most of a shared L3)."""
    global _SWEEP
    if _SWEEP is None:
        _SWEEP = np.ones(40_000_000 // 8)
    _SWEEP.sum()


def _kernel_time(arr, x, d, lr, ucfg, repeats, cold=False, silent=False):
    """Kernel only, on the plan of (x, d), with fresh stream keys per call; ``cold``:
    after a cache sweep; ``silent``: with every threshold zero (the fixed part)."""
    plan = plan_stochastic_trains(x, d, lr, arr.granularity, ucfg)
    args = U._device_args(arr, False, None)
    st = np.zeros((5, len(x)), np.int64)
    keys = iter(_KEYS * (1 + 3 * repeats // len(_KEYS)))
    thr_rows, thr_cols = plan.thr_rows, plan.thr_cols
    if silent:
        thr_rows, thr_cols = np.zeros_like(thr_rows), np.zeros_like(thr_cols)

    def run():
        U._kernel(arr).stochastic_update(*args, thr_rows, thr_cols, plan.sign_rows,
                                      plan.sign_cols, plan.bl, *next(keys), 0, st)
    run()
    return median_time(run, repeats, _sweep if cold else None), int(st[0].sum()), plan.bl


def _packing(repeats):
    """Trains of 10 samples × 1 040 lines at BL 31: AVX-512 packing vs the scalar loop."""
    kernel = U._kernel()
    g = np.random.default_rng(2)
    thr = np.floor(g.random((10, 1040)) * 0.3 * 2.0**32).astype(np.uint64)
    thr[:, g.random(1040) < 0.4] = 0
    bl = np.full(10, 31, np.int32)
    had = kernel.simd()
    try:
        t_vec = median_time(lambda: kernel.pack_lines(thr, bl, np.uint64(7)), repeats)
        kernel.simd(False)
        t_sca = median_time(lambda: kernel.pack_lines(thr, bl, np.uint64(7)), repeats)
    finally:
        kernel.simd(had)
    print(f"packing 10x1040 lines, BL 31: AVX-512 {1e6 * t_vec:.0f} us, scalar "
          f"{1e6 * t_sca:.0f} us ({t_sca / t_vec:.1f}x)")


def _plan_time(arr, x, d, lr, ucfg, repeats):
    (nb, n), m = x.shape, d.shape[1]
    out = (np.empty((nb, m), np.uint64), np.empty((nb, n), np.uint64),
           np.empty((nb, m), np.int8), np.empty((nb, n), np.int8), np.empty(nb, np.int32))
    pk = U._plan_kernel()
    return median_time(lambda: pk.stochastic_plan(x, d, lr, arr.granularity, ucfg.bl_max,
                                                  ucfg.fixed_bl, ucfg.update_management,
                                                  *out), repeats)


def _column_write(repeats):
    """Transfer write of 10 columns of 256×784: full (M, N) matrix vs ``cols=``."""
    g = np.random.default_rng(3)
    cfg = DeviceConfig(model="soft_bounds", dw_min_std=0.3, count_pulses=True)
    arr = DeviceArray(cfg, (256, 784), g)
    cols = np.arange(100, 110)
    counts = g.integers(-3, 4, (256, 10)) * (g.random((256, 10)) < 0.3)
    rng = np.random.default_rng(0)

    def full():
        mat = np.zeros(arr.shape, np.int64)
        mat[:, cols] = counts
        return U.apply_pulses(arr, mat, rng)
    t_full = median_time(full, repeats)
    t_cols = median_time(lambda: U.apply_pulses(arr, counts, rng, cols=cols), repeats)
    print(f"transfer write 256x784, 10 columns, {int(np.abs(counts).sum())} pulses: "
          f"full matrix {1e3 * t_full:.3f} ms, cols= {1e3 * t_cols:.3f} ms "
          f"({t_full / t_cols:.1f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--cold", action="store_true", help="also time with cold caches")
    args = ap.parse_args()
    kernel = U                     # U.simd switches the kernels of both precisions
    had = kernel.simd()
    ucfg = UpdateConfig(bl_max=31, update_management=True)
    print(f"pulsed update, MLP 784-256-128-10, batch 10, SoftBounds c2c 0.3; AVX-512 "
          f"available: {had}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'config':<8}{'layer':>11}{'BL':>6}{'pulses':>8}{'full ms':>9}{'kernel':>8}"
          f"{'plan':>7}{'fixed':>7}{'scalar':>8}{'ratio':>7}{'ns/pulse':>9}")
    try:
        for name, rates in RATES.items():
            for (rows, cols, dens), lr in zip(LAYERS, rates):
                arr, x, d, lr = _call(rows, cols, dens, lr, rows)
                rng = np.random.default_rng(0)
                kernel.simd(had)
                full = median_time(lambda: U.pulsed_update(arr, x, d, lr, ucfg, rng),
                                   args.repeats)
                t_vec, pulses, bl = _kernel_time(arr, x, d, lr, ucfg, args.repeats)
                t_plan = _plan_time(arr, x, d, lr, ucfg, args.repeats)
                kernel.simd(False)
                t_sca, _, _ = _kernel_time(arr, x, d, lr, ucfg, args.repeats)
                kernel.simd(had)
                print(f"{name:<8}{f'{rows}x{cols}':>11}{f'{bl.min()}-{bl.max()}':>6}"
                      f"{pulses:>8d}{1e3 * full:>9.3f}{1e3 * t_vec:>8.3f}{1e3 * t_plan:>7.3f}"
                      f"{1e3 * (full - t_vec):>7.3f}{1e3 * t_sca:>8.3f}{t_sca / t_vec:>6.2f}x"
                      f"{1e9 * t_vec / max(pulses, 1):>9.1f}")
                if args.cold:
                    t_cold = _kernel_time(arr, x, d, lr, ucfg, args.repeats, cold=True)[0]
                    t_fix = _kernel_time(arr, x, d, lr, ucfg, args.repeats, silent=True)[0]
                    t_fixc = _kernel_time(arr, x, d, lr, ucfg, args.repeats, cold=True,
                                          silent=True)[0]
                    print(f"{'':8}{'cold caches':>17}: kernel {1e3 * t_cold:.3f} ms; fixed part "
                          f"(no pulse) {1e3 * t_fix:.3f} ms warm, {1e3 * t_fixc:.3f} ms cold")
    finally:
        kernel.simd(had)
    _column_write(args.repeats)
    _packing(args.repeats)


if __name__ == "__main__":
    main()
