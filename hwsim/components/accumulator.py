"""Digital accumulator: the buffer H of TTv2/c-TTv2/AGAD, the χ of mixed precision, the
low-precision accumulator of HIC.

PHYSICS.md §4: TTv2 adds each read column into H (``H[:,k] += s·v``) and every
element with ``|H| ≥ 1`` triggers a pulse write to C, after which that element is
rewritten (``H ← momentum·H``); mixed precision adds ``η d xᵀ`` into χ and elements
with ``|χ| ≥ ε`` are written to the array (``χ −= n·ε``) (Nandakumar et al., Front.
Neurosci. 2020; Rasch et al., Nat. Commun. 15:7133, 2024).

Hardware: ``lanes`` adders of ``bits`` bits with a threshold comparator each, over a
register file holding H.  An ``accumulate`` of ``n`` elements is a wide operation
(:mod:`hwsim.components.lanes`, ``w = lanes`` elements per cycle)::

    accumulate:  L = latency (add/compare pipeline depth),  occupancy ceil(n / lanes) cycles

so the last element leaves ``latency + ceil(n/lanes) − 1`` cycles after the first
enters (with the input keeping up).

Operation meta keys:

* ``compares`` — threshold tests ``|H_i| ≥ θ`` (default ``n``: every updated element is
  tested; 0 for plain accumulation such as SBPCA sums);
* ``writes`` — elements that crossed the threshold and were rewritten after their
  write-back trigger (reset, decrement or forget: default 0);
* ``reads`` — words read out toward the array write path (default ``writes``: the
  value of each crossing element decides its pulse count).

Actions (attr ``bits``): ``add`` (one element added, including its register
read-modify-write; count ``n``), ``compare`` (one threshold test), ``read`` (one word
read out), ``write`` (one word rewritten after a threshold crossing).
"""
from __future__ import annotations

from fractions import Fraction
from functools import cached_property

from hwsim.components.lanes import LanedComponent
from hwsim.config.blocks import AccumulatorParams
from hwsim.core import StatSpec, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError


@register
class DigitalAccumulator(LanedComponent):
    KIND = "DigitalAccumulator"
    Params = AccumulatorParams
    PORTS = (inp("in", "digital_vector", "values to add (read columns, digital gradients)",
                 multi=True),
             out("out", "digital_vector", "threshold crossings (write-back triggers)",
                 multi=True, optional=True))
    ACTIONS = {
        "add": "one element added into the accumulator (register read-modify-write)",
        "compare": "one threshold test of an accumulated element",
        "read": "one accumulated word read out toward the array write path",
        "write": "one accumulated word rewritten after a threshold crossing",
    }
    OPS = ("accumulate",)
    STATS = (StatSpec("elements", "elements", "elements added"),
             StatSpec("threshold_crossings", "elements",
                      "elements that crossed the threshold (write-back triggers)"),)

    def _counts(self, txn) -> tuple[int, int, int]:
        compares = int(field(txn, "compares"))
        writes = int(field(txn, "writes"))
        reads = int(field(txn, "reads"))
        if min(compares, writes, reads) < 0 or writes > txn.n_total:
            raise SimulationError(f"{self.path}: accumulate of {txn.n_total} elements with "
                                  f"compares={compares}, writes={writes}, reads={reads}: "
                                  f"counts must be >= 0 and writes <= n")
        return compares, writes, reads

    def timing(self, txn):
        if txn.op != "accumulate":
            raise SimulationError(f"{self.path}: DigitalAccumulator cannot perform "
                                  f"'{txn.op}' (ops: accumulate)")
        return self.params.latency, 1

    def work(self, txn):
        return txn.n_total, Fraction(self.params.lanes)

    def actions(self, txn):
        compares, writes, reads = self._counts(txn)
        attrs = self._attrs
        yield "add", txn.n_total, attrs
        yield "compare", compares, attrs
        yield "read", reads, attrs
        yield "write", writes, attrs

    def on_operation(self, txn) -> None:
        self.stats.add("elements", txn.n_total)
        self.stats.add("threshold_crossings", self._counts(txn)[1])

    @cached_property
    def _attrs(self) -> dict:
        """The attributes of every action (params are frozen; never mutated)."""
        return {"bits": self.params.bits}

    def area_attrs(self) -> dict:
        return {"lanes": self.params.lanes, "bits": self.params.bits}
