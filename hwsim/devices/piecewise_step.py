"""PiecewiseStep: the step interpolated between nodes over the weight range (PHYSICS.md §1).

    u = clip((w − b_min)/(b_max − b_min), 0, 1)
    q⁺(w) = interp(nodes_up, u),   q⁻(w) = interp(nodes_dn, u)

nodes evenly spaced over [b_min, b_max]; granularity ε = dw_min times the mean up/down
factor at w = 0.  aihwkit's PiecewiseStepDevice (Rasch et al., APL Machine Learning
1:041102, 2023).  Kernel parameter p_up = 1/(b_max − b_min).
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param
from hwsim.devices.base import DeviceConfig, KernelCode, device_model, model_param, real


@device_model
class PiecewiseStep(DeviceConfig):
    """PiecewiseStep: q± interpolated between node values over [b_min, b_max]"""
    model: str = model_param("piecewise_step")
    piecewise_up: tuple[float, ...] = param((1.0, 1.0), desc="PiecewiseStep up-step factors at "
                                            "evenly spaced weights from b_min to b_max")
    piecewise_down: tuple[float, ...] = param((1.0, 1.0), desc="PiecewiseStep down-step factors")

    kernel = KernelCode.PIECEWISE

    def __post_build__(self, data, path, ctx):
        super().__post_build__(data, path, ctx)
        for key in ("piecewise_up", "piecewise_down"):
            nodes = getattr(self, key)
            if len(nodes) < 2 or min(nodes) < 0:
                self._fail(data, path, key, "needs at least two non-negative node values")

    def device_params(self, arr, xi):
        return 1.0 / (arr.b_max - arr.b_min), np.zeros(arr.shape)

    def kernel_nodes(self, up):
        return self.piecewise_up if up else self.piecewise_down

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        w = real(w)
        u = np.clip((w - b_min) * p_up, 0.0, 1.0)
        pos = u * (len(nodes) - 1)
        k = np.minimum(pos.astype(np.intp), len(nodes) - 2)
        f = pos - k.astype(pos.dtype)     # (the kernel: pos − <real>k)
        return nodes[k] + f * (nodes[k + 1] - nodes[k])

    def granularity(self):
        """dw_min times the mean of the up and down factors at w = 0."""
        u = min(max((0.0 - self.w_min) / (self.w_max - self.w_min), 0.0), 1.0)
        up = float(np.interp(u, np.linspace(0, 1, len(self.piecewise_up)), self.piecewise_up))
        dn = float(np.interp(u, np.linspace(0, 1, len(self.piecewise_down)),
                             self.piecewise_down))
        return self.dw_min * 0.5 * (up + dn)
