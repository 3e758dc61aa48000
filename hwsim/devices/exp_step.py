"""ExpStep: steps saturate exponentially towards the bounds (PHYSICS.md §1).

    z = 2a·w/(b_max − b_min) + b
    q⁺(w) = max(0, 1 − A_up·e^{γ_up z}),   q⁻(w) = max(0, 1 − A_dn·e^{−γ_dn z})

Granularity ε = the up step at w = 0.  aihwkit's ExpStepDevice (Rasch et al., APL
Machine Learning 1:041102, 2023); the filamentary-ReRAM saturation it models: Gong et
al., Nat. Commun. 9:2102 (2018).  Defaults: steps vanish at the nominal bounds
(A = e^-γ), a symmetric illustrative shape, not a measured device.  Exponentials go
through libm, as in the kernel.
"""
from __future__ import annotations

import math

import numpy as np

from hwsim.config.params import param
from hwsim.devices.base import DeviceConfig, KernelCode, device_model, libm_exp, model_param, real


@device_model
class ExpStep(DeviceConfig):
    """ExpStep: q± = max(0, 1 − A± e^{±γ± z}), z = 2a w/(b_max − b_min) + b"""
    model: str = model_param("exp_step")
    exp_a: float = param(1.0, desc="ExpStep z-scale a")
    exp_b: float = param(0.0, desc="ExpStep z-offset b")
    exp_A_up: float = param(0.0498, desc="ExpStep amplitude A_up")
    exp_A_down: float = param(0.0498, desc="ExpStep amplitude A_dn")
    exp_gamma_up: float = param(3.0, desc="ExpStep exponent γ_up")
    exp_gamma_down: float = param(3.0, desc="ExpStep exponent γ_dn")

    kernel = KernelCode.EXP

    def device_params(self, arr, xi):
        return 2.0 * self.exp_a / (arr.b_max - arr.b_min), np.zeros(arr.shape)

    def kernel_scalars(self):
        return np.array([self.exp_A_up, self.exp_A_down, self.exp_gamma_up,
                         self.exp_gamma_down, self.exp_b], dtype=np.float64)

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return self._q(up, w, p_up, scalars, libm_exp)

    def q_fast(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return self._q(up, w, p_up, scalars, np.exp)

    @staticmethod
    def _q(up, w, p_up, scalars, exp):
        z = p_up * real(w) + scalars[4]
        if up:
            return np.maximum(1.0 - scalars[0] * exp(scalars[2] * z), 0.0)
        return np.maximum(1.0 - scalars[1] * exp(-scalars[3] * z), 0.0)

    def granularity(self):
        """The up step at w = 0."""
        z = 2.0 * self.exp_a * 0.0 / (self.w_max - self.w_min) + self.exp_b
        return self.dw_min * max(0.0, 1.0 - self.exp_A_up * math.exp(self.exp_gamma_up * z))
