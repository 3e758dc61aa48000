"""AGAD: chopped Tiki-Taka without a reference array (Rasch et al., Nat. Commun. 15:7133, 2024).

Per element a running mean ``m ← (1−ρ)m + ρv`` of the read column and a frozen
reference ``p`` (``p ← m`` at every flip of c_in_k); the buffer integrates
``H += s·c·(v − p)``, so A's own offset is measured on the fly and no reference
array is needed.  ``ρ = min(tail_weightening/n_s, 1)`` with n_s the reads per
chopper half-period; no writes to C during the first n_s sweeps (PHYSICS.md §4).
"""
from __future__ import annotations

from hwsim.config.params import param, section
from hwsim.training.algorithms.base import Algorithm
from hwsim.training.algorithms.cttv2 import ChoppedParams
from hwsim.training.algorithms.tt_family import TransferAlgorithm

_RASCH = "Rasch et al., Nat. Commun. 15:7133 (2024)"


@section("agad", "AGAD: chopped Tiki-Taka with on-the-fly reference (no array R)")
class AGADParams(ChoppedParams):
    in_chop_random: bool = param(False, cite=_RASCH,
                                 desc="random flips with p_in (else regular half-periods)")
    tail_weightening: float = param(5.0, lo=0, lo_open=True, cite=_RASCH,
                                    desc="ρ = min(tail_weightening/n_s, 1) of the running mean")


class AGAD(TransferAlgorithm, Algorithm):
    NAME = "agad"
    Params = AGADParams
    ROLES = ("A", "C")
    BUFFERED = CHOPPED = RUNNING_REFERENCE = True
