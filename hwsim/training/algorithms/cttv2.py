"""c-TTv2: TTv2 with input/output choppers (Rasch et al., Nat. Commun. 15:7133, 2024).

The gradient is written to A with signs flipped by ``c_in ∈ {±1}ᴺ``, ``c_out ∈ {±1}ᴹ``
and the read column is multiplied by the same signs before entering H, so static
offsets (reference error, symmetry-point mismatch) average out.  ``c_in_k`` flips
after its read with probability p_in (or regularly), ``c_out`` after a sweep with
p_out; each flip is a ``flip`` op on the tile's chopper (PHYSICS.md §4).
"""
from __future__ import annotations

from hwsim.config.params import param, section
from hwsim.training.algorithms.base import Algorithm
from hwsim.training.algorithms.ttv2 import BufferedParams, ReferencedParams
from hwsim.training.algorithms.tt_family import TransferAlgorithm

_RASCH = "Rasch et al., Nat. Commun. 15:7133 (2024)"


@section("chopped", "Buffered Tiki-Taka with choppers")
class ChoppedParams(BufferedParams):
    in_chop_prob: float = param(0.1, lo=0, hi=1, cite=_RASCH,
                                desc="p_in: flip probability of c_in_k after its read "
                                     "(regular: period max(ceil(1/p_in), 2) reads)")
    in_chop_random: bool = param(True, cite=_RASCH,
                                 desc="random flips with p_in (else regular half-periods)")
    out_chop_prob: float = param(0.0, lo=0, hi=1, cite=_RASCH,
                                 desc="p_out: flip probability of each c_out_i after a sweep")
    chop_per_sample: bool = param(False,
                                  desc="p_in and p_out are per read of a one-vector-per-sample "
                                       "layer: a layer of V vectors per sample (per-token linear, "
                                       "conv patches) flips with p/V, so its chopper period is as "
                                       "many samples as a dense layer's (else the same p per read: "
                                       "V times shorter in samples)")


@section("c-ttv2", "c-TTv2: chopped TTv2 with a reference array R")
class CTTv2Params(ChoppedParams, ReferencedParams):
    pass


class CTTv2(TransferAlgorithm, Algorithm):
    NAME = "c-ttv2"
    Params = CTTv2Params
    ROLES = ("A", "C", "R")
    BUFFERED = REFERENCED = CHOPPED = True
