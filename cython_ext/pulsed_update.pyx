"""Pulsed-update kernel of stochastic bit trains (PHYSICS.md §2), float64 device state;
the mean-count and explicit-count kernels are in pulse_counts.pyx (re-exported here),
the device arithmetic both share in pulse_device.pxi.  The code is pulsed_update.pxi,
shared with the float32 module pulsed_update32.  The NumPy oracle is
hwsim/physics/update_oracle.py (equal bit for bit).

Per pulse on device idx (up = potentiation):

    base = Δ±·q±(w)                       (Δ± = dw_up / dw_down of the device)
    std  = σ·base + Δ±·(σ_add + σ_slope·|w|)
    w   ← clip(w ± (base + std·ξ), b_min, b_max)          (ξ drawn only if std > 0)

Lumped (ConstantStep with small σ): n pulses as one step ``n·Δ ± sqrt(n)·std·ξ``.
Random words come from the counter-based generator of hwsim/physics/counter_rng.py;
the counter of pulse slot s of device (i, j) in sample b is ((b·M + i)·N + j)·64 + s.
With AVX-512 (chosen at run time), trains are packed 8 lines per step and LINEAR-family
slots run 8 devices per step (cython_ext/pulse_simd.h).
"""
from pulse_device cimport *
from hwsim._ext import pulse_counts
from hwsim._ext.pulse_counts import mean_count_update, count_update   # noqa: F401

include "pulsed_update.pxi"
