"""Crossbar tile: analog MVM (forward, transposed), pulsed update, column read.

Timing (cycles of the tile clock):

* ``forward`` / ``backward`` / ``read_column``: one integration per vector and read
  phase, ``L = II = read_phases · ceil(integration_time · f)`` (HERMES four-phase mode:
  ``read_phases: 4``; the ``read`` and ``read_cell`` actions count every phase).
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
``pulse`` (one device pulse), ``row_drive`` / ``col_drive`` (one line driven for one
update slot).
"""
from __future__ import annotations

from hwsim.config.blocks import TileParams
from hwsim.core import Component, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError


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
        "pulse": "one update pulse on one device",
        "row_drive": "one row line driven during one update slot",
        "col_drive": "one column line driven during one update slot",
    }
    OPS = ("forward", "backward", "read_column", "update", "serial_write")

    def timing(self, txn):
        p = self.params
        if txn.op in ("forward", "backward", "read_column"):
            c = max(1, self.cycles(p.integration_time)) * p.read_phases
            return c, c
        if txn.op == "update":
            c = max(1, self.cycles(p.pulse_width))
            return c, c
        if txn.op == "serial_write":
            c = max(1, int(field(txn, "max_pulses")) * self.cycles(p.pulse_width))
            return c, c
        raise SimulationError(f"{self.path}: Tile cannot perform '{txn.op}'")

    def actions(self, txn):
        if txn.op in ("forward", "backward", "read_column"):
            p = self.params
            yield "read", txn.n_total * p.read_phases, {}
            yield "read_cell", float(field(txn, "sum_gv2")) * p.read_phases, {
                "read_voltage": p.read_voltage, "g_max": p.g_max,
                "integration_time": p.integration_time}
        else:
            yield "pulse", int(field(txn, "pulses")), {}
            yield "row_drive", int(field(txn, "row_slots", 0)), {}
            yield "col_drive", int(field(txn, "col_slots")), {}

    def area_attrs(self) -> dict:
        return {"rows": self.params.rows, "cols": self.params.cols}
