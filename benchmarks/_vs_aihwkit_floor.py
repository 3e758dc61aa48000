"""``bench_vs_aihwkit.py --floor``: the physical floor of one hwsim epoch on this machine.

floor = (device pulses the epoch applied, from the action ledger's ``pulse`` rows of
every tile) × (the cheapest ns per applied pulse the compiled update kernels reach on a
micro-benchmark: ``pulsed_update`` on dense trains, 512×512, batch 64, and
``apply_pulses`` of one pulse on every device, with the experiment's device and update
settings) + (the epoch's matrix products: every ``periphery.mvm`` call's M×N by B
product, bound-management repeats included, and for mixed precision the digital
gradient ``dᵀx`` of every layer, timed as bare NumPy matmuls of the same shapes and
dtype on one BLAS thread).  Everything else an epoch does (periphery noise and
quantisation, pulse-train generation, op timing, Python) is above the floor.

All times are CPU times (``time.process_time``, one thread), which a loaded machine
inflates far less than wall times; the kernels' and products' times are the least of
five tries.  The counts come from one instrumented epoch; its CPU time (the wrapper adds
~1 µs per product) is the "measured" figure, its wall time is printed beside it.
"""
from __future__ import annotations

import collections
import sys
import time

import numpy as np

from bench_vs_aihwkit import hwsim_epoch


def _record_products(counts: collections.Counter):
    """Wrap ``mvm`` where the training layer looks it up; returns an undo function."""
    from hwsim.training.algorithms import analog
    saved = [(m, m.mvm) for m in list(sys.modules.values())
             if getattr(m, "__name__", "").startswith("hwsim.training") and hasattr(m, "mvm")]
    original = analog.mvm

    def mvm(w, x, *args, **kw):
        y, st = original(w, x, *args, **kw)
        b = 1 if np.ndim(x) == 1 else len(x)
        kind = "Wᵀd" if kw.get("transposed") else "Wx"
        counts[(kind, w.shape[0], w.shape[1], b, w.dtype.str)] += (b + int(st.bm_repeats)) / b
        return y, st
    for m, _ in saved:
        m.mvm = mvm

    def undo():
        for m, f in saved:
            m.mvm = f
    return undo


def _cpu_best(f, repeats: int, inner: int = 1) -> float:
    """Least CPU time (process_time: robust to a loaded machine) of ``inner`` calls of
    ``f``, over ``repeats`` tries, per call."""
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        for _ in range(inner):
            f()
        best = min(best, (time.process_time() - t) / inner)
    return best


def _matmul_s(kind: str, m: int, n: int, b: int, dtype: str) -> float:
    """CPU time of the bare product: ``Wx`` (b, n) @ (n, m), ``Wᵀd`` (b, m) @ (m, n),
    ``dᵀx`` (m, b) @ (b, n), with W (m, n) C-ordered."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((m, n)).astype(dtype)
    x = rng.standard_normal((b, n)).astype(dtype)
    d = rng.standard_normal((b, m)).astype(dtype)
    f = {"Wx": lambda: x @ w.T, "Wᵀd": lambda: d @ w, "dᵀx": lambda: d.T @ x}[kind]
    inner = max(1, int(2e7 / (2.0 * m * n * b)))      # ~20 MFLOP (a few ms) per try
    return _cpu_best(f, 5, inner)


def ns_per_pulse(prep, repeats: int = 5) -> tuple[float, dict]:
    """Cheapest CPU ns per applied pulse of the update kernels (see the module doc)."""
    from hwsim.physics.device_array import DeviceArray
    from hwsim.physics.update import apply_pulses, pulsed_update
    dev, cfg = prep.context.device, prep.accelerator.tile.update
    rows = cols = 512
    data = np.random.default_rng(0)
    x = data.standard_normal((64, cols))
    d = 0.1 * data.standard_normal((64, rows))
    ones = np.where(data.random((rows, cols)) < 0.5, 1, -1).astype(np.int64)
    base = DeviceArray(dev, (rows, cols), np.random.default_rng(1))
    calls = {f"pulsed_update dense, lr {lr:g}":
             (lambda a, r, lr=lr: pulsed_update(a, x, d, lr, cfg, r).device_pulses)
             for lr in (0.01, 1.0)}
    calls["apply_pulses, ±1 on every device"] = lambda a, r: apply_pulses(
        a, ones, r, lumped_noise_threshold=cfg.lumped_noise_threshold)
    cases = {}
    for label, call in calls.items():
        best = float("inf")
        for i in range(repeats):
            a, r = base.copy(), np.random.default_rng(100 + i)
            t = time.process_time()
            n = call(a, r)
            best = min(best, (time.process_time() - t) / max(n, 1))
        cases[label] = best * 1e9
    return min(cases.values()), cases


def floor_report(algo: str, samples: int, lenet: bool) -> None:
    from hwsim.training.runner import single_threaded_blas
    counts: collections.Counter = collections.Counter()
    undo = _record_products(counts)
    try:
        r = hwsim_epoch(algo, samples, lenet, on_trained=undo)   # the test is not counted
    finally:
        undo()
    hw, prep = r["hw"], r["prep"]
    hw.sync()
    by_phase = collections.Counter()
    for key, c in hw.machine.ledger.items():
        if key.action == "pulse" and key.kind == "Tile":
            by_phase[key.phase] += c
    pulses = sum(by_phase.values())
    products = dict(counts)
    if prep.cfg.training.algorithm == "mixed-precision":
        # χ += dᵀx (digital) once per layer and mini-batch, with the forward's shapes
        for (kind, m, n, b, dt), c in counts.items():
            if kind == "Wx":
                products[("dᵀx", m, n, b, dt)] = round(c)
    with single_threaded_blas():
        ns, cases = ns_per_pulse(prep)
        blas_s, flops = 0.0, 0.0
        for (kind, m, n, b, dt), c in products.items():
            blas_s += c * _matmul_s(kind, m, n, b, dt)
            flops += c * 2.0 * m * n * b
    pulse_s = pulses * ns * 1e-9
    scale = 8000 / samples
    floor = (pulse_s + blas_s) * scale
    meas, wall = r["cpu_s"] * scale, r["train_s"] * scale
    print(f"{algo} ({'LeNet' if lenet else 'MLP'}, {samples} samples, per 8k samples):")
    print(f"  device pulses applied   {pulses * scale:14,.0f}  "
          + ", ".join(f"{p} {c * scale:,.0f}" for p, c in sorted(by_phase.items())))
    for label, v in cases.items():
        print(f"    {label:36s} {v:6.2f} ns / pulse")
    print(f"  pulses × {ns:.2f} ns          {pulse_s * scale:8.3f} s")
    print(f"  matrix products          {flops * scale / 1e9:8.2f} GFLOP in "
          f"{sum(products.values()) * scale:,.0f} products at "
          f"{flops / max(blas_s, 1e-12) / 1e9:.1f} GFLOP/s: {blas_s * scale:.3f} s")
    print(f"  physical floor           {floor:8.3f} s;  measured epoch {meas:.2f} s CPU "
          f"({wall:.2f} s wall) = {meas / floor:.1f}× the floor (test accuracy "
          f"{100 * r['test_acc']:.1f} %)", flush=True)
