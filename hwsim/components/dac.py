"""DAC bank: converts the digital input vector into line voltages (or pulse widths).

Timing per vector: the bank has ``count`` DACs for ``lines`` driven lines, so one
vector takes ``rounds = ceil(lines / count)`` conversion rounds::

    L  = rounds · latency      II = rounds · ii        (cycles of the DAC clock)

With ``encoding: pwm`` (Ambrogio et al., Nature 2023) there is no amplitude
conversion: each round is a pulse-width driver setup; the pulse duration itself is
part of the tile's integration time.  An MVM read in ``P = tile.read_phases`` phases
drives its inputs once per phase: ``L = P · rounds · latency``, ``II = P · rounds · ii``.

Actions: ``convert`` (bits, encoding) — one per driven line per vector and phase.
"""
from __future__ import annotations

import math

from hwsim.config.blocks import DACParams
from hwsim.core import Component, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError


@register
class DAC(Component):
    KIND = "DAC"
    Params = DACParams
    PORTS = (inp("in", "digital_vector", "digital input vectors from buffer/interconnect", multi=True),
             out("out", "analog_vector", "line voltages to the crossbar"))
    ACTIONS = {"convert": "one digital-to-analog conversion of one line"}
    OPS = ("forward", "backward", "read_column")
    STRUCTURAL_ACCOUNTING = True      # conversions = n × lines_in

    def __init__(self, path, params, clock, ledger, lines: int = 1, phases: int = 1):
        super().__init__(path, params, clock, ledger)
        if int(phases) != phases or phases < 1:
            raise SimulationError(f"{path}: a DAC bank needs phases >= 1, got {phases}")
        self.lines = lines
        self.phases = int(phases)

    def _lines(self, txn) -> int:
        return int(field(txn, "lines_in", self.lines))

    def _rounds(self, txn) -> int:
        count = self.params.count or self.lines
        return max(1, math.ceil(self._lines(txn) / count))

    def timing(self, txn):
        r = self._rounds(txn) * self.phases
        return r * self.params.latency, r * self.params.ii

    def actions(self, txn):
        yield "convert", txn.n_total * self._lines(txn) * self.phases, {"bits": self.params.bits,
                                                         "encoding": self.params.encoding}

    def area_attrs(self) -> dict:
        return {"bits": self.params.bits, "encoding": self.params.encoding,
                "count": self.params.count or self.lines}
