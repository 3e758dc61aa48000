"""ADC bank: converts the crossbar's output currents into digital words.

``columns_per_adc = k`` lines share one ADC through a multiplexer (ISAAC, Shafiee
et al. ISCA 2016), so the bank has ``ceil(lines / k)`` converters and one vector
needs ``k`` sequential conversions on each::

    L  = k · latency      II = k · ii        (cycles of the ADC clock)

Actions: ``convert`` (bits, type) — one per converted line per vector (bound-
management repeats arrive as extra vectors).
"""
from __future__ import annotations

import math

from hwsim.config.blocks import ADCParams
from hwsim.core import Component, inp, out, register
from hwsim.core.ops import field


@register
class ADC(Component):
    KIND = "ADC"
    Params = ADCParams
    PORTS = (inp("in", "analog_vector", "integrated line currents from the crossbar", multi=True),
             out("out", "digital_vector", "digital output words", multi=True))
    ACTIONS = {"convert": "one analog-to-digital conversion of one line"}
    OPS = ("forward", "backward", "read_column")
    STRUCTURAL_ACCOUNTING = True      # conversions = n × lines_out

    def __init__(self, path, params, clock, ledger, lines: int = 1):
        super().__init__(path, params, clock, ledger)
        self.lines = lines

    @property
    def converters(self) -> int:
        return max(1, math.ceil(self.lines / self.params.columns_per_adc))

    def _k(self, txn) -> int:
        lines = int(field(txn, "lines_out", self.lines))
        return max(1, math.ceil(lines / self.converters))

    def timing(self, txn):
        k = self._k(txn)
        return k * self.params.latency, k * self.params.ii

    def actions(self, txn):
        lines = int(field(txn, "lines_out", self.lines))
        yield "convert", txn.n_total * lines, {"bits": self.params.bits, "type": self.params.type}

    def area_attrs(self) -> dict:
        return {"bits": self.params.bits, "type": self.params.type, "count": self.converters}
