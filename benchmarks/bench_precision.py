"""Per-pulse cost of the compiled update kernels, float32 vs float64 device state.

The micro-benchmark of ``_vs_aihwkit_floor.ns_per_pulse`` (a 512×512 array of the
default SoftBounds device and update settings; ``pulsed_update`` on dense trains, batch
64, lr 0.01 and 1.0, and ``apply_pulses`` of ±1 on every device), per round each case
three times per precision (the best of the three kept), precisions alternating,
``--rounds`` rounds; prints the least CPU ns per applied pulse of each case and precision
with its range over the rounds (machine load inflates the range, not the least).  One
thread (process CPU time).

    python benchmarks/bench_precision.py [--rounds 5] [--model soft_bounds]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cases(model: str, precision: str):
    from hwsim.config.update import UpdateConfig
    from hwsim.devices import DeviceConfig
    from hwsim.physics.device_array import DeviceArray
    from hwsim.physics.update import apply_pulses, pulsed_update
    cfg = UpdateConfig()
    rows = cols = 512
    data = np.random.default_rng(0)
    x = data.standard_normal((64, cols))
    d = 0.1 * data.standard_normal((64, rows))
    ones = np.where(data.random((rows, cols)) < 0.5, 1, -1).astype(np.int64)
    base = DeviceArray(DeviceConfig(model=model), (rows, cols), np.random.default_rng(1),
                       precision)
    out = {f"pulsed_update dense, lr {lr:g}":
           (lambda a, r, lr=lr: pulsed_update(a, x, d, lr, cfg, r).device_pulses)
           for lr in (0.01, 1.0)}
    out["apply_pulses, ±1 on every device"] = lambda a, r: apply_pulses(
        a, ones, r, lumped_noise_threshold=cfg.lumped_noise_threshold)
    return base, out


def main() -> None:
    from hwsim.training.runner import single_threaded_blas
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--model", default="soft_bounds")
    a = ap.parse_args()
    precisions = ("float32", "float64")
    setups = {p: cases(a.model, p) for p in precisions}
    ns = {}
    with single_threaded_blas():
        for k in range(a.rounds):
            for p in precisions:
                base, calls = setups[p]
                for label, call in calls.items():
                    best = float("inf")
                    for _ in range(3):        # the first call after a switch is often slow
                        arr, rng = base.copy(), np.random.default_rng(100 + k)
                        t = time.process_time()
                        n = call(arr, rng)
                        best = min(best, (time.process_time() - t) / max(n, 1) * 1e9)
                    ns.setdefault((label, p), []).append(best)
    print(f"{a.model}, 512×512, {a.rounds} alternating rounds (CPU ns per applied pulse; "
          "least, range):")
    for label in setups["float32"][1]:
        row = [f"  {label:34s}"]
        for p in precisions:
            v = ns[(label, p)]
            row.append(f"{p} {min(v):6.2f} ({min(v):.2f}–{max(v):.2f})")
        row.append(f"float32/float64 {min(ns[(label, 'float32')]) / min(ns[(label, 'float64')]):.2f}")
        print("   ".join(row), flush=True)


if __name__ == "__main__":
    main()
