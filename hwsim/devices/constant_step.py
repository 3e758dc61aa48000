"""ConstantStep: every pulse moves the device by the same step (PHYSICS.md §1).

    q⁺(w) = q⁻(w) = 1:   w ← clip(w ± Δ±(1 + σξ), b_min, b_max)

Gokmen & Vlasov, "Acceleration of deep neural network training with resistive
cross-point devices", Front. Neurosci. 10:333 (2016) (the RPU specification).  The step
does not depend on w, so n pulses may run as one lumped step n·Δ ± √n·std·ξ
(``update.lumped_noise_threshold``).
"""
from __future__ import annotations

import numpy as np

from hwsim.devices.base import DeviceConfig, KernelCode, device_model, model_param, real


@device_model
class ConstantStep(DeviceConfig):
    """ConstantStep: q± = 1, the same step Δ± at every weight (Gokmen & Vlasov 2016)"""
    model: str = model_param("constant_step")

    kernel = KernelCode.CONSTANT
    lumpable = True

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return np.ones_like(real(w))

    def symmetry_point(self, arr):
        """No symmetry point: the steps do not depend on w (NaN)."""
        return np.full(arr.shape, np.nan)
