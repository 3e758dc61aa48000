"""TTv2: Tiki-Taka with a digital buffer H and a reference array R (PHYSICS.md §4).

The read column ``v = (A − R) e_k`` is integrated in H (``H[:,k] += s·v``); elements
with ``|H| ≥ 1`` send ``clip(trunc(H), ±BL_t)`` pulses to C, then ``H ← momentum·H``
(Gokmen, Front. Artif. Intell. 4:699148, 2021).  R is programmed to A's symmetry
point with an error σ_r (``ref_std``), the offset c-TTv2 and AGAD are built to cancel.
"""
from __future__ import annotations

from hwsim.config.params import param, section
from hwsim.training.algorithms.base import Algorithm
from hwsim.training.algorithms.tiki_taka import TikiTakaParams
from hwsim.training.algorithms.tt_family import TransferAlgorithm

_TT2 = "Gokmen, Front. Artif. Intell. 4:699148 (2021)"
_RASCH = "Rasch et al., Nat. Commun. 15:7133 (2024)"


@section("buffered", "Tiki-Taka with a digital transfer buffer H")
class BufferedParams(TikiTakaParams):
    auto_granularity: float = param(1000.0, lo=0, cite=_RASCH + " (the form); 1000 is hwsim's "
                                    "default, not a checked published value (issue 16: aihwkit's "
                                    "build_config differs); the digits experiments' 20 is tuned "
                                    "on digits (README 'Honest defaults')",
                                    desc="vector updates for an A entry one state off its "
                                         "reference to fill H (0: s = transfer_lr·η/ε_A)")
    max_pulses: int = param(1, lo=1, hi=64, cite=_TT2,
                            desc="BL_t: most pulses one H element sends to C per transfer")
    momentum: float = param(0.0, lo=0, hi=1, cite=_TT2,
                            desc="H ← momentum·H on elements that fired (0 = forget buffer)")


@section("referenced", "Buffered Tiki-Taka reading A differentially against a reference R")
class ReferencedParams(BufferedParams):
    ref_std: float = param(0.0, lo=0, cite=_RASCH,
                           desc="σ_r: error of the reference R around A's symmetry point")
    ref_target: str = param("symmetry_point", choices=("symmetry_point", "zero"),
                            cite="IBM aihwkit 1.1.0 SoftBoundsReferenceDevice."
                                 "subtract_symmetry_point (default False: read against 0)",
                            desc="what R is programmed to: A's symmetry point (Gokmen 2021), "
                                 "or zero (A read against 0, aihwkit's default reference)")


@section("ttv2", "TTv2: buffered Tiki-Taka with a reference array R")
class TTv2Params(ReferencedParams):
    pass


class TTv2(TransferAlgorithm, Algorithm):
    NAME = "ttv2"
    Params = TTv2Params
    ROLES = ("A", "C", "R")
    BUFFERED = REFERENCED = True
