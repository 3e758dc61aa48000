"""PowStep: the step is a power of the distance to the bound (PHYSICS.md §1).

    q⁺(w) = ((b_max − w)/(b_max − b_min))^γ,   q⁻(w) = ((w − b_min)/(b_max − b_min))^γ

with per-device γ ← γ·max(1 + pow_gamma_dtod ξ, 0.05); granularity ε = dw_min·0.5^γ.
aihwkit's PowStepDevice (Rasch et al., APL Machine Learning 1:041102, 2023).  Powers go
through libm, as in the kernel (p_up = 1/(b_max − b_min), p_dn = γ).
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param
from hwsim.devices.base import (DTOD_FLOOR, DeviceConfig, KernelCode, device_model, libm_pow,
                                model_param, real)


@device_model
class PowStep(DeviceConfig):
    """PowStep: q+ = ((b_max − w)/(b_max − b_min))^γ, q− = ((w − b_min)/(b_max − b_min))^γ"""
    model: str = model_param("pow_step")
    pow_gamma: float = param(1.0, desc="PowStep exponent γ", lo=0, lo_open=True)
    pow_gamma_dtod: float = param(0.0, lo=0, desc="PowStep relative spread of γ")

    kernel = KernelCode.POW

    def device_params(self, arr, xi):
        gam = self.pow_gamma * np.maximum(1.0 + self.pow_gamma_dtod * xi, DTOD_FLOOR)
        return 1.0 / (arr.b_max - arr.b_min), gam

    @staticmethod
    def _base(up, w, p_up, b_min, b_max):
        w = real(w)
        return np.maximum((b_max - w) * p_up if up else (w - b_min) * p_up, 0.0)

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return libm_pow(self._base(up, w, p_up, b_min, b_max), p_dn)

    def q_fast(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return self._base(up, w, p_up, b_min, b_max) ** p_dn

    def granularity(self):
        """dw_min·0.5^γ (the step half-way between the bounds)."""
        return self.dw_min * 0.5 ** self.pow_gamma
