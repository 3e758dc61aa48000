"""Crossbar tile: analog MVM (forward, transposed), pulsed update, column read.

Timing (cycles of the tile clock):

* ``forward`` / ``backward`` / ``read_column``: one read per vector and read phase,
  ``L = II = read_phases · ceil(t_read · f)`` (HERMES four-phase mode: ``read_phases: 4``;
  the ``read``, ``wire_charge`` and ``read_cell`` actions count every phase).
  ``read_timing: fixed``: ``t_read = integration_time`` (an explicit override, the
  shipped configs' numbers).  ``read_timing: rc``: the time the driven and the sensed
  lines need to settle from their wire RC (Elmore delay of a distributed line of ``k``
  cell segments of ``r`` Ω and ``c`` F: ``½·r·c·k²``)::

      τ = ½·r·c·(rows² + cols²)        t_read = settling_taus · τ    (≥ 1 cycle)

  (an input line spans ``rows`` cells, an output line ``cols``; driver resistance and
  device loading are not included).
* ``update`` (parallel outer product, Gokmen & Vlasov 2016): the operation's items
  are pulse *slots*; every slot lasts one pulse width, ``L = II = ceil(pulse_width·f)``.
  A mini-batch with per-sample BL_b slots is ``Σ_b BL_b`` items.
* ``serial_write`` (NeuroSim-style row-by-row): items are row steps, each of
  ``max_pulses`` pulse widths: ``L = II = max_pulses · ceil(pulse_width·f)``.

Actions: ``read`` (one MVM, drives the lines), ``read_cell`` (energy units
Σ_ij ĝ_ij·v̂_j² of normalized conductance × normalized voltage², priced at
``g_max · V_read² · t_int`` per unit — the action carries this tile's ``read_voltage``,
``g_max`` and ``integration_time``, so the value-dependent Σ G·V²·t of the MVM is
priced with the tile's own electrical parameters),
``wire_charge`` (one cell segment of a driven line charged to the read voltage, count
``vectors · lines_in · lines_out``, priced ``c · V_read²`` with the tile's
``wire_capacitance`` and ``read_voltage``: the drive energy grows with rows × cols),
``pulse`` (one device pulse), ``row_drive`` / ``col_drive`` (one line driven for one
update slot).

Without a sample-and-hold on its ADC bank (``sample_hold: false``, the HERMES CCO
converting the column charge in place) the array holds its read until the conversion
is out: the tile is busy until its converters' last output (:attr:`busy_until`), so
no operation — an update under the pipelined schedule, say — starts on the array while
a read is still being converted (``elaborate.graph`` links the converters).
"""
from __future__ import annotations

from functools import cached_property

from hwsim.config.blocks import TileParams
from hwsim.core import Component, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError

_READS = frozenset(("forward", "backward", "read_column"))
_NO_ATTRS: dict = {}


@register
class Tile(Component):
    KIND = "Tile"
    Params = TileParams
    PORTS = (inp("in", "analog_vector", "line voltages from the DAC bank"),
             out("out", "analog_vector", "integrated currents to the ADC bank"),
             inp("pulses", "pulses", "stochastic pulse trains for the update", optional=True),
             inp("signs", "bits", "sign control of the chopped lines (from a chopper)",
                 optional=True))
    ACTIONS = {
        "read": "one analog MVM on the array",
        "read_cell": "Σ ĝ·v̂² energy units of one MVM (value-dependent read energy)",
        "wire_charge": "one cell segment of a driven line charged for one MVM",
        "pulse": "one update pulse on one device",
        "row_drive": "one row line driven during one update slot",
        "col_drive": "one column line driven during one update slot",
    }
    OPS = ("forward", "backward", "read_column", "update", "serial_write")

    #: the ADC banks converting this array's lines in place (no sample-and-hold)
    holding_converters: tuple = ()

    @property
    def busy_until(self) -> int:
        """``free_at``, or later while a converter without sample-and-hold still converts
        this array's read (its last output)."""
        t = self.free_at
        for adc in self.holding_converters:
            t = max(t, adc.stats.values["last_out_tick"])
        return t

    def timing(self, txn):
        p = self.params
        if txn.op in _READS:
            c = max(1, self.cycles(self.read_time())) * p.read_phases
            return c, c
        if txn.op == "update":
            c = max(1, self.cycles(p.pulse_width))
            return c, c
        if txn.op == "serial_write":
            c = max(1, int(field(txn, "max_pulses")) * self.cycles(p.pulse_width))
            return c, c
        raise SimulationError(f"{self.path}: Tile cannot perform '{txn.op}'")

    def settling_tau(self) -> float:
        """Elmore time constant of the lines, ``½·r·c·(rows² + cols²)`` in s."""
        p = self.params
        return 0.5 * p.wire_resistance * p.wire_capacitance * (p.rows ** 2 + p.cols ** 2)

    def read_time(self) -> float:
        """Time of one MVM read in s (see module docstring)."""
        p = self.params
        return p.integration_time if p.read_timing == "fixed" else \
            p.settling_taus * self.settling_tau()

    @cached_property
    def _read_attrs(self) -> tuple:
        """The attributes of ``wire_charge`` and ``read_cell`` (the params are frozen:
        built once, yielded as the same dicts; the ledger never mutates them)."""
        p = self.params
        return ({"read_voltage": p.read_voltage, "wire_capacitance": p.wire_capacitance},
                {"read_voltage": p.read_voltage, "g_max": p.g_max,
                 "integration_time": self.read_time()})

    def actions(self, txn):
        if txn.op in _READS:
            p = self.params
            wire, cell = self._read_attrs
            yield "read", txn.n_total * p.read_phases, _NO_ATTRS
            cells = int(field(txn, "lines_in", p.cols)) * int(field(txn, "lines_out", p.rows))
            yield "wire_charge", txn.n_total * cells * p.read_phases, wire
            yield "read_cell", float(field(txn, "sum_gv2")) * p.read_phases, cell
        else:
            yield "pulse", int(field(txn, "pulses")), _NO_ATTRS
            yield "row_drive", int(field(txn, "row_slots", 0)), _NO_ATTRS
            yield "col_drive", int(field(txn, "col_slots")), _NO_ATTRS

    def area_attrs(self) -> dict:
        return {"rows": self.params.rows, "cols": self.params.cols}
