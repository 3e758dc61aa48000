"""The declared parameters of the pulsed update (layer 1): pulse-train settings of the
parallel stochastic update of PHYSICS.md §2 (Gokmen & Vlasov, Front. Neurosci. 10:333,
2016), the serial row-by-row alternative, and update management.
"""
from __future__ import annotations

from hwsim.config.params import build_section, param, section

__all__ = ["UpdateConfig", "load_update"]


@section("update", "Pulsed update: stochastic pulse trains, BL and update management")
class UpdateConfig:
    bl_max: int = param(31, desc="maximum pulse-train length BL_max (slots per update)", lo=1,
                        hi=64, cite="train model: Gokmen & Vlasov 2016 (PHYSICS.md §2, whose "
                        "baseline is BL = 10); 31 is hwsim's default for every array, A of the "
                        "Tiki-Taka family included (issue 16: aihwkit's TTv2 config differs)",
                        why="a train is one uint64 mask per line in the kernels, one bit per "
                            "slot (hwsim.physics.pulse_trains.MAX_SLOTS)")
    update_management: bool = param(True, desc="balance A, B by sqrt(x_m/d_m) and clip the "
                                    "gradient when k > BL_max",
                                    cite="Gokmen & Vlasov 2016 (update management); PHYSICS.md "
                                         "§2 step 3")
    fixed_bl: bool = param(False, cite="Gokmen & Vlasov 2016 (BL management: min(ceil(k), BL_max))",
                           desc="always use BL_max slots instead of min(ceil(k), BL_max)")
    pulse_type: str = param("stochastic_compressed",
                            cite="Gokmen & Vlasov 2016 (stochastic trains); mean_count and "
                                 "none_pulsed are hwsim's oracles",
                            desc="stochastic bit trains, deterministic mean counts, or the ideal "
                                 "float update (oracle)",
                            choices=("stochastic_compressed", "mean_count", "none_pulsed"))
    scheme: str = param("parallel", cite="Gokmen & Vlasov 2016 (parallel); serial_row: NeuroSim "
                        "(Chen et al., TCAD 2018)",
                        desc="parallel outer product or NeuroSim-style serial rows",
                        choices=("parallel", "serial_row"))
    lumped_noise_threshold: float = param(
        0.5, lo=0, cite="hwsim's speed/accuracy choice (PHYSICS.md §2)",
        desc="ConstantStep only: if dw_min_std ≤ this, n pulses are one step "
        "n·Δ(1+σξ/√n) (exact in distribution for Gaussian c2c noise away from the bounds)")
    serial_max_pulses: int = param(31, lo=1, cite="hwsim's choice, equal to the default bl_max",
                                   desc="serial_row: largest |pulse count| per device")


def load_update(data=None) -> UpdateConfig:
    """An :class:`UpdateConfig` from a mapping (``None`` = all defaults)."""
    if isinstance(data, UpdateConfig):
        return data
    return build_section(UpdateConfig, data or {}, "update")
