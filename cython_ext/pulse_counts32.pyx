"""Pulsed-update kernels of deterministic counts (PHYSICS.md §2), float32 device state:
the same code as pulse_counts (pulse_counts.pxi) compiled for ``real`` = float
(pulse_device32.pxd); the NumPy oracle is hwsim/physics/update_oracle.py run on float32
arrays (equal bit for bit).
"""
from pulse_device32 cimport *

include "pulse_counts.pxi"
