"""Pulsed-update kernels of deterministic counts (PHYSICS.md §2), float64 device state:
mean-count trains and explicit per-device counts (Tiki-Taka transfers, serial writes).
The code is pulse_counts.pxi (shared with the float32 module pulse_counts32), the
device arithmetic pulse_device.pxi, the equations in pulsed_update.pyx; the NumPy
oracle is hwsim/physics/update_oracle.py (equal bit for bit).  Explicit counts on
LINEAR-family devices run 8 devices per AVX-512 step when the CPU has it
(cython_ext/pulse_simd.h).
"""
from pulse_device cimport *

include "pulse_counts.pxi"
