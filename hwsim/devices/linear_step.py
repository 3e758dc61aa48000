"""LinearStep: the step shrinks (or grows) linearly with the weight (PHYSICS.md §1).

    q⁺(w) = max(0, 1 − γ⁺·w/w_max),   q⁻(w) = max(0, 1 − γ⁻·w/w_min)

with per-device slopes γ± ← γ±·max(1 + linear_gamma_dtod ξ, 0.05).  aihwkit's
LinearStepDevice (Rasch et al., "Using the IBM analog in-memory hardware acceleration
kit for neural network training and inference", APL Machine Learning 1:041102, 2023).

:class:`LinearFamily` is the LINEAR kernel shared by LinearStep, SoftBounds and the
linear response families: ``q± = max(0, 1 − p±·w)`` with per-device p_up, p_dn.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param
from hwsim.devices.base import (DTOD_FLOOR, DeviceConfig, KernelCode, device_model, model_param,
                                real)


def linear_symmetry_point(dw_up, dw_dn, p_up, p_dn, b_min, b_max) -> np.ndarray:
    """w⋄ of the LINEAR family, where Δ⁺(1 − p_up w⋄) = Δ⁻(1 − p_dn w⋄):

        w⋄ = (Δ⁺ − Δ⁻)/(Δ⁺p_up − Δ⁻p_dn),

    which for SoftBounds (p_up = 1/b_max, p_dn = 1/b_min) is the PHYSICS.md §1 formula
    (Δ⁺ − Δ⁻)/(Δ⁺/b_max − Δ⁻/b_min).  Clipped to [b_min, b_max]; NaN when the steps
    do not depend on w.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ws = (dw_up - dw_dn) / (dw_up * p_up - dw_dn * p_dn)
    return np.clip(ws, b_min, b_max)


class LinearFamily:
    """Mixin of the models that run on the LINEAR kernel: q± = max(0, 1 − p±·w)."""
    kernel = KernelCode.LINEAR

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        w = real(w)
        return np.maximum(1.0 - (p_up if up else p_dn) * w, 0.0)

    def symmetry_point(self, arr):
        """Closed form (:func:`linear_symmetry_point`)."""
        return linear_symmetry_point(arr.dw_up, arr.dw_down, arr.p_up, arr.p_down,
                                     arr.b_min, arr.b_max)


@device_model
class LinearStep(LinearFamily, DeviceConfig):
    """LinearStep: q+ = 1 − γ⁺w/w_max, q− = 1 − γ⁻w/w_min (aihwkit LinearStepDevice)"""
    model: str = model_param("linear_step")
    linear_gamma_up: float = param(0.0, desc="LinearStep slope γ⁺ of the up step")
    linear_gamma_down: float = param(0.0, desc="LinearStep slope γ⁻ of the down step")
    linear_gamma_dtod: float = param(0.0, lo=0, desc="LinearStep relative spread of γ±")

    def device_params(self, arr, xi):
        s = np.maximum(1.0 + self.linear_gamma_dtod * xi, DTOD_FLOOR)
        return self.linear_gamma_up * s / self.w_max, self.linear_gamma_down * s / self.w_min
