"""The device models of :mod:`hwsim.devices` as the physics layer sees them, and the
check that the compiled kernels agree with them (PHYSICS.md §1).

A pulse moves a device by ``±Δ±·q±(w)·(1 + σξ)`` (then clipped to [b_min, b_max]).
Every model reduces to a :class:`~hwsim.devices.KernelCode` and two per-device
parameter arrays ``p_up``, ``p_dn`` (plus a few scalars), so one compiled kernel serves
them all; each model's module holds its equation, its NumPy reference step (the oracle
of the kernel's step function, equal bit for bit) and its code.

At import the codes of the compiled kernels (``model_codes()`` of
``hwsim._ext.pulsed_update`` and ``hwsim._ext.pulse_counts``, from the enum in
``cython_ext/pulse_device.pxi``) are compared with :class:`KernelCode`: a mismatch
raises :class:`~hwsim.errors.BackendError`.  Without compiled kernels the NumPy backend
still runs.
"""
from __future__ import annotations

import numpy as np

from hwsim.devices import KernelCode, check_kernel_codes, device_sections, libm_exp, libm_pow
from hwsim.devices.linear_step import linear_symmetry_point
from hwsim.errors import BackendError

__all__ = ["KernelCode", "kernel_code", "libm_exp", "libm_pow", "linear_symmetry_point", "model_scalars",
           "nominal_granularity", "number_of_states", "q_step", "q_step_fast",
           "reference_model"]

CONSTANT, LINEAR, EXP, POW, PIECEWISE, RPOWER, REXP = KernelCode    # names of the codes

try:                         # float64 and float32 device state (run.precision)
    from hwsim._ext import pulse_counts as _counts_kernel
    from hwsim._ext import pulse_counts32 as _counts_kernel32
    from hwsim._ext import pulsed_update as _trains_kernel
    from hwsim._ext import pulsed_update32 as _trains_kernel32
except ImportError:          # not built: backend "cython" reports it when asked for
    _KERNELS = ()
else:
    _KERNELS = (_trains_kernel, _counts_kernel, _trains_kernel32, _counts_kernel32)
for _k in _KERNELS:
    if not hasattr(_k, "model_codes"):
        raise BackendError(f"compiled kernel {_k.__name__} predates the device model codes: "
                           "rebuild with `pip install .`")
    check_kernel_codes(_k.model_codes(), _k.__name__)


def reference_model(code):
    """A default section of the first registered model that runs on kernel ``code``."""
    for cls in device_sections().values():
        if cls.kernel == code:
            return cls()
    raise ValueError(f"no device model runs on kernel code {code!r}")


def q_step(code, up: bool, w, p_up, p_dn, b_min, b_max, scalars, nodes) -> np.ndarray:
    """q⁺(w) (``up``) or q⁻(w) of kernel ``code``, exactly as the kernel computes it."""
    return reference_model(code).q(up, w, p_up, p_dn, b_min, b_max, scalars, nodes)


def q_step_fast(code, up, w, p_up, p_dn, b_min, b_max, scalars, nodes) -> np.ndarray:
    """As :func:`q_step` with NumPy's own exp/pow (for analysis, not bitwise oracles)."""
    return reference_model(code).q_fast(up, w, p_up, p_dn, b_min, b_max, scalars, nodes)


def model_scalars(cfg) -> np.ndarray:
    """Scalars of the kernel step function: [A_up, A_dn, γ_up, γ_dn, b]."""
    return cfg.kernel_scalars()


def nominal_granularity(cfg) -> float:
    """Granularity ε of the nominal device (PHYSICS.md §1; per model)."""
    return cfg.granularity()


def number_of_states(cfg) -> float:
    """States = (w_max − w_min)/ε (PHYSICS.md §1)."""
    return cfg.number_of_states()


def kernel_code(array) -> int:
    """The compiled kernel's code of ``array``'s model; a NumPy-only model (no
    ``kernel``) is a :class:`BackendError` naming the numpy backend."""
    if array.model_code is None:
        raise BackendError(f"device model '{array.model}' has no compiled kernel step; "
                           "run it with backend numpy (run.backend: numpy)")
    return int(array.model_code)
