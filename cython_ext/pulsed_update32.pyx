"""Pulsed-update kernel of stochastic bit trains (PHYSICS.md §2), float32 device state:
the code of pulsed_update (pulsed_update.pxi) compiled for ``real`` = float
(pulse_device32.pxd), with the float32 count kernels of pulse_counts32 re-exported.
The NumPy oracle is hwsim/physics/update_oracle.py run on float32 arrays (equal bit for
bit).  Each pulse: base = Δ±·q±(w), std = σ·base + Δ±·(σ_add + σ_slope·|w|),
w ← clip(w ± (base + std·ξ), b_min, b_max), every operation rounded to float32.
"""
from pulse_device32 cimport *
from hwsim._ext import pulse_counts32 as pulse_counts
from hwsim._ext.pulse_counts32 import mean_count_update, count_update   # noqa: F401

include "pulsed_update.pxi"
