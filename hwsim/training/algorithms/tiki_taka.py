"""Tiki-Taka v1 and residual learning (PHYSICS.md §4).

Gradient on the fast array A, every ``transfer_every`` vector updates one column of A
is read and pulse-written onto C with ``ΔC = η_t·v e_kᵀ`` (Gokmen & Haensch, Front.
Neurosci. 14:103, 2020).  Residual learning runs the forward/backward MVMs on
``W̄ = C + γA`` (Wu et al., NeurIPS 2024/2025).  The transfer cycle is shared with
TTv2, c-TTv2 and AGAD in :mod:`hwsim.training.algorithms.tt_family`.
"""
from __future__ import annotations

from hwsim.config.params import param, section
from hwsim.training.algorithms.base import Algorithm, AnalogParams
from hwsim.training.algorithms.tt_family import TransferAlgorithm

_TT = "Gokmen & Haensch, Front. Neurosci. 14:103 (2020)"
_RASCH = "Rasch et al., Nat. Commun. 15:7133 (2024)"


@section("tiki-taka", "Tiki-Taka v1 / residual learning: gradient on A, column transfers to C")
class TikiTakaParams(AnalogParams):
    gamma: float = param(0.0, lo=0, cite="Wu et al., NeurIPS 2024 (residual learning)",
                         desc="γ of the forward/backward weight W̄ = C + γA (0 = plain Tiki-Taka)")
    fast_lr: float = param(0.1, lo=0, cite=_RASCH + " (the auto-scaled form); the value 0.1 is "
                           "hwsim's default, not a checked published one (issue 16: aihwkit's "
                           "build_config differs); the quickstart's 0.5 is tuned on digits "
                           "(README 'Quickstart')",
                           desc="auto_scale: pulses per update at the running max (fraction of "
                                "BL_max); else the absolute learning rate η_A of A")
    auto_scale: bool = param(True, cite=_RASCH,
                             desc="η_A = fast_lr·BL_max·ε_A/(x̂_m·d̂_m) from running maxima")
    auto_momentum: float = param(0.99, lo=0, hi=1, cite="hwsim's choice: a running mean over "
                                 "≈100 mini-batches",
                                 desc="momentum of the running maxima x̂_m, d̂_m")
    transfer_every: int = param(1, lo=1, cite=_RASCH,
                                desc="vector updates between two transfers")
    n_reads: int = param(1, lo=1, cite=_TT, desc="columns of A read per transfer")
    transfer_lr: float = param(1.0, lo=0, cite=_TT,
                               desc="transfer learning rate η_t (v1: ΔC = η_t v e_kᵀ, clipped to "
                                    "BL_max pulses: past BL_max·ε_C·α/Δ_ADC every transfer clips "
                                    "and runs are identical, warned; buffered: scale of s)")
    reference_states: float | None = param(
        1200.0, lo=1, cite="hwsim's tuned choice: fast_lr, n_reads and the digits/MNIST "
        "settings were tuned on the 1000-1200-state presets (configs/devices/ecram.yaml, "
        "reram_softbounds.yaml; README 'Honest defaults')",
        desc="states S_ref the pulse counts fast_lr (auto_scale) and n_reads are meant for: on "
             "a device of S > S_ref states (smaller steps) n_reads → round(n_reads·S/S_ref) "
             "(at most the tile width) and fast_lr → min(fast_lr·S/S_ref, max(fast_lr, 1)), so "
             "that A and C move as many weight units per update as on an S_ref-state device; "
             "null: counts as given whatever the device")
    interleave: bool = param(False, cite="simulation option (hwsim): one kernel call per batch "
                             "by default",
                             desc="split the mini-batch at every transfer point (exact "
                                         "ordering) instead of transferring after the batch update")


class TikiTaka(TransferAlgorithm, Algorithm):
    NAME = "tiki-taka"
    Params = TikiTakaParams
    ROLES = ("A", "C")
