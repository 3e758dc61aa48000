"""ADC bank: converts the crossbar's output currents into digital words.

``columns_per_adc = k`` lines share one ADC through a multiplexer (ISAAC, Shafiee
et al. ISCA 2016), so the bank has ``ceil(lines / k)`` converters and one vector
needs ``k`` sequential conversions on each.  An MVM read in ``P = tile.read_phases``
phases (HERMES four-phase mode) converts every line once per phase::

    sample_hold: true    L = k · latency          II = P · k · ii
    sample_hold: false   L = P · k · latency      II = P · (k · ii + cycles(t_int))

(cycles of the ADC clock).  With a sample-and-hold (ISAAC) the conversions of a
vector overlap the integration of the next one, and the phases of one vector
pipeline behind each other (exact while a conversion is no longer than an
integration).  Without one (``sample_hold: false``: the HERMES CCO converts the
column's integrated charge in place) the array waits for the conversion: every phase
is an integration followed by its conversion, so a stream of vectors leaves one per
``P · (t_int + k · t_conv)`` — 133 ns for the one-phase HERMES core (Le Gallo et al.,
Nat. Electron. 6:680, 2023: 63.1 TOPS over 64 cores = one 256×256 MVM per 133 ns per
core).  ``t_int`` is the tile's integration time (a build argument).

Actions: ``convert`` (bits, type) — one per converted line per vector and phase
(bound-management repeats arrive as extra vectors).
"""
from __future__ import annotations

import math

from hwsim.config.blocks import ADCParams
from hwsim.core import Component, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError, UnitError
from hwsim.units import parse


@register
class ADC(Component):
    KIND = "ADC"
    Params = ADCParams
    PORTS = (inp("in", "analog_vector", "integrated line currents from the crossbar", multi=True),
             out("out", "digital_vector", "digital output words", multi=True))
    ACTIONS = {"convert": "one analog-to-digital conversion of one line"}
    OPS = ("forward", "backward", "read_column")
    STRUCTURAL_ACCOUNTING = True      # conversions = n × lines_out

    def __init__(self, path, params, clock, ledger, lines: int = 1, phases: int = 1,
                 integration_time: float = 0.0):
        super().__init__(path, params, clock, ledger)
        try:   # an explicit-form document may give it as a string ('56 ns', '5.6e-08')
            integration_time = parse(integration_time, "s")
        except UnitError as exc:
            raise SimulationError(f"{path}: integration_time: {exc}") from None
        if int(phases) != phases or phases < 1 or integration_time < 0:
            raise SimulationError(f"{path}: an ADC bank needs phases >= 1 and an integration "
                                  f"time >= 0 s, got {phases}, {integration_time}")
        self.lines = lines
        self.phases = int(phases)
        self.integration_time = float(integration_time)

    @property
    def converters(self) -> int:
        return max(1, math.ceil(self.lines / self.params.columns_per_adc))

    def _k(self, txn) -> int:
        lines = int(field(txn, "lines_out", self.lines))
        return max(1, math.ceil(lines / self.converters))

    def timing(self, txn):
        k, p, P = self._k(txn), self.params, self.phases
        if p.sample_hold:
            return k * p.latency, P * k * p.ii
        return P * k * p.latency, P * (k * p.ii + self.cycles(self.integration_time))

    def actions(self, txn):
        lines = int(field(txn, "lines_out", self.lines))
        yield "convert", txn.n_total * lines * self.phases, {"bits": self.params.bits,
                                                            "type": self.params.type}

    def area_attrs(self) -> dict:
        return {"bits": self.params.bits, "type": self.params.type, "count": self.converters}
