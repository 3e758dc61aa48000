"""Benchmark of the pulsed update kernel against its NumPy oracle (PHYSICS.md §2).

512×512 tile, mini-batch 64, BL_max 31 with update management, ConstantStep and
SoftBounds (PHYSICS defaults: dw_min 0.001, dtod 0.3, c2c 0.3).  Inputs x ~ N(0, 1);
errors d ~ N(0, s²) with s = 0.01 (typical back-propagated errors: k ≈ 1, BL 1–2, sparse
trains) and s = 0.1 (k ≈ 10, dense: ~0.6 pulses per device and sample).  η = 0.01 and
η = 1 (BL saturated at 31; the pulse count then no longer depends on s).  Single thread.

    python benchmarks/bench_update.py [--repeats 5]

Targets: ≤ 30 ms/batch and ≥ 20× the oracle at η = 0.01; ≤ 300 ms at η = 1.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from hwsim.devices import DeviceConfig
from hwsim.config.update import UpdateConfig# noqa: E402
from hwsim.physics.device_array import DeviceArray  # noqa: E402
from hwsim.physics.update import pulsed_update  # noqa: E402


def _time(array, x, d, lr, cfg, backend, repeats):
    """Median wall time (perf_counter) and median CPU time of ``repeats`` calls."""
    wall, cpu, stats = [], [], None
    for r in range(repeats):
        a = array.copy()
        rng = np.random.default_rng(100 + r)
        t0, c0 = time.perf_counter(), time.process_time()
        stats = pulsed_update(a, x, d, lr, cfg, rng, backend)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu)), stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--oracle-repeats", type=int, default=1)
    args = ap.parse_args()
    rows = cols = 512
    batch = 64
    data = np.random.default_rng(0)
    x = data.standard_normal((batch, cols))
    d_unit = data.standard_normal((batch, rows))
    cfg = UpdateConfig(bl_max=31, update_management=True)
    print(f"pulsed update, {rows}x{cols} tile, batch {batch}, BL_max 31, update management; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'model':<14}{'d std':>6}{'lr':>6}{'mean BL':>9}{'pulses':>12}{'kernel ms':>11}"
          f"{'(cpu ms)':>9}{'numpy ms':>10}{'ratio':>8}")
    for model in ("constant_step", "soft_bounds"):
        array = DeviceArray(DeviceConfig(model=model), (rows, cols), np.random.default_rng(1))
        for scale, lr in ((0.01, 0.01), (0.1, 0.01), (0.1, 1.0)):
            d = scale * d_unit
            t_k, c_k, st = _time(array, x, d, lr, cfg, "cython", args.repeats)
            t_n, _, _ = _time(array, x, d, lr, cfg, "numpy", args.oracle_repeats)
            print(f"{model:<14}{scale:>6g}{lr:>6g}{st.bl_used.mean():>9.1f}{st.device_pulses:>12d}"
                  f"{1e3 * t_k:>11.2f}{1e3 * c_k:>9.1f}{1e3 * t_n:>10.1f}{t_n / t_k:>7.1f}x")


if __name__ == "__main__":
    main()
