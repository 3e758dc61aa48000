"""Digital unit: activations, loss gradients, partial-sum adds, SBPCA power iterations.

A SIMD datapath of ``lanes`` lanes of ``bits`` bits (the "digital compute shared by 4
crossbars" of the runtime model of Rasch et al., Nat. Commun. 15:7133, 2024).  A
``digital`` operation of ``n`` elementary operations is a wide operation
(:mod:`hwsim.components.lanes`, ``w = lanes`` operations per cycle)::

    digital:  L = latency (pipeline depth),  occupancy ceil(n / lanes) cycles

so the last result leaves ``latency + ceil(n/lanes) − 1`` cycles after the first
operands enter.  A unit shared by several tiles appears in all their routes; its
input queue serialises their operations (contention shows in ``wait_ticks``).

Operation meta keys: ``kind`` — what the ``n`` operations are: ``activation``,
``activation_grad``, ``loss_grad``, ``partial_sum``, ``bias``, ``pca``, ``scale``,
``add``, ``mult``... (free text, default ``"op"``; the technology table prices each
kind, e.g. an add vs a multiply vs a sigmoid, Horowitz ISSCC 2014).

Actions: ``op`` (attrs ``function`` = the meta ``kind``, and ``bits``) — one elementary
operation, count ``n``.  (The attribute cannot be called ``kind``: that name is a
parameter of :meth:`hwsim.core.ledger.ActionLedger.record`.)
"""
from __future__ import annotations

from fractions import Fraction

from hwsim.components.lanes import LanedComponent
from hwsim.config.blocks import DigitalUnitParams
from hwsim.core import StatSpec, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError


@register
class DigitalUnit(LanedComponent):
    KIND = "DigitalUnit"
    Params = DigitalUnitParams
    PORTS = (inp("in", "digital_vector", "operands (ADC outputs, buffer words)", multi=True),
             out("out", "digital_vector", "results (to buffer, DACs, interconnect)", multi=True))
    ACTIONS = {"op": "one elementary digital operation of the given kind"}
    OPS = ("digital",)
    STRUCTURAL_ACCOUNTING = True      # ops = n, function from meta kind
    STATS = (StatSpec("ops", "ops", "elementary operations executed"),)

    def timing(self, txn):
        if txn.op != "digital":
            raise SimulationError(f"{self.path}: DigitalUnit cannot perform '{txn.op}' "
                                  f"(ops: digital)")
        return self.params.latency, 1

    def work(self, txn):
        return txn.n_total, Fraction(self.params.lanes)

    def actions(self, txn):
        function = str(field(txn, "kind"))
        yield "op", txn.n_total, {"function": function, "bits": self.params.bits}

    def on_operation(self, txn) -> None:
        self.stats.add("ops", txn.n_total)

    def area_attrs(self) -> dict:
        return {"lanes": self.params.lanes, "bits": self.params.bits}
