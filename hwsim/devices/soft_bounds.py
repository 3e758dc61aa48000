"""SoftBounds: the step vanishes linearly at each device's own bound (PHYSICS.md §1).

    q⁺(w) = max(0, 1 − w/b_max),   q⁻(w) = max(0, 1 − w/b_min)

Symmetry point w⋄ = (Δ⁺ − Δ⁻)/(Δ⁺/b_max − Δ⁻/b_min).  Gokmen & Vlasov, Front. Neurosci.
10:333 (2016) (RPU device), as SoftBoundsDevice in Rasch et al., Nat. Commun. 15:7133
(2024).  Runs on the LINEAR kernel with p_up = 1/b_max, p_dn = 1/b_min.
"""
from __future__ import annotations

from hwsim.devices.base import DeviceConfig, device_model, model_param
from hwsim.devices.linear_step import LinearFamily


@device_model
class SoftBounds(LinearFamily, DeviceConfig):
    """SoftBounds: q+ = 1 − w/b_max, q− = 1 − w/b_min (Gokmen & Vlasov 2016)"""
    model: str = model_param("soft_bounds")

    def device_params(self, arr, xi):
        return 1.0 / arr.b_max, 1.0 / arr.b_min
