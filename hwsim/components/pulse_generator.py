"""Pulse generator: stochastic pulse trains on the row and column lines of a tile.

The parallel outer-product update (Gokmen & Vlasov, Front. Neurosci. 10:333, 2016;
PHYSICS.md §2) drives, in each of ``BL`` pulse slots, column ``j`` with probability
``B·|x_j|`` and row ``i`` with probability ``A·|d_i|``; a device is pulsed where a row
and a column pulse coincide.  The generator has two pipelined stages:

1. *preprocessing* (``setup_time``): input maxima x̂_m, d̂_m, BL and update management,
   the probabilities of every line — a fixed latency per operation;
2. *streaming*: one slot of pulse decisions for all ``rows + cols`` lines per pulse
   width, in lock step with the tile (its update ``II`` is also one pulse width).

Timing (cycles of the generator's clock; ``pulse_width`` is the tile's, handed over as a
build argument by the template row in :data:`hwsim.config.blocks.BLOCKS`)::

    update:        L = cycles(setup_time)   II = cycles(pulse_width)         per slot
    serial_write:  L = cycles(setup_time)   II = max_pulses · cycles(pulse_width)  per row step

so an isolated update of ``n = Σ BL`` slots through generator → tile ends after
``cycles(setup_time) + n · cycles(pulse_width)`` cycles — 5.9 ns + 32 × 5 ns ≈ 166 ns
for BL = 32, the runtime model of Rasch et al., Nat. Commun. 15:7133 (2024).  The
preprocessing registers are double-buffered: the setup of the next operation (or
sample) overlaps the slots of the current one, so back-to-back operations stream
slots without gaps (this is what the stage formula gives, and it holds while every
sample has at least ``setup_time / pulse_width`` slots; 2 with the defaults).

Operation meta keys read here:

* ``update``: ``row_slots``, ``col_slots`` — (line, slot) pairs in which the row /
  column line fired; ``rng_draws`` — random numbers drawn (default: one Bernoulli draw
  per line per slot, ``(rows + cols) · n``; 0 with ``rng: deterministic``).
* ``serial_write``: ``max_pulses`` (required, as for the tile); ``row_slots``
  (default ``pulses``: one driven line-slot per device pulse) and ``col_slots``
  (default 0); ``rng_draws`` (default 0: the pulse counts are deterministic).

Actions: ``pulse_slot`` (one line driven with a pulse in one slot; attr ``rng``) and
``rng_draw`` (one random number from the generator's source; attr ``rng``).
"""
from __future__ import annotations

from hwsim.config.blocks import PulseGeneratorParams, TileParams
from hwsim.core import Component, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError, UnitError
from hwsim.units import parse

_DEFAULT_TILE = TileParams()


@register
class PulseGenerator(Component):
    KIND = "PulseGenerator"
    Params = PulseGeneratorParams
    PORTS = (inp("in", "digital_vector", "x and d vectors of the update (from buffer or digital "
                 "unit)", multi=True, optional=True),
             out("pulses", "pulses", "stochastic pulse trains to the tile's rows and columns"))
    ACTIONS = {
        "pulse_slot": "one line (row or column) driven with a pulse in one update slot",
        "rng_draw": "one random number drawn for a Bernoulli pulse decision",
    }
    OPS = ("update", "serial_write")

    def __init__(self, path, params, clock, ledger, rows: int = 1, cols: int = 1,
                 pulse_width: float = _DEFAULT_TILE.pulse_width):
        super().__init__(path, params, clock, ledger)
        if rows < 1 or cols < 1:
            raise SimulationError(f"{path}: a pulse generator needs rows, cols >= 1, got "
                                  f"{rows}x{cols}")
        try:   # an explicit-form document may give it as a string ('5 ns', '5e-09')
            pulse_width = parse(pulse_width, "s")
        except UnitError as exc:
            raise SimulationError(f"{path}: pulse_width: {exc}") from None
        if not pulse_width > 0:
            raise SimulationError(f"{path}: pulse width must be > 0 s, got {pulse_width}")
        self.rows = rows
        self.cols = cols
        self.pulse_width = pulse_width
        self._attrs = {"rng": params.rng}       # of every action (never mutated)

    @property
    def lines(self) -> int:
        return self.rows + self.cols

    def slot_cycles(self) -> int:
        """Cycles of this block's clock covering one pulse width (at least 1)."""
        return max(1, self.cycles(self.pulse_width))

    def timing(self, txn):
        setup = self.cycles(self.params.setup_time)
        if txn.op == "update":
            return setup, self.slot_cycles()
        if txn.op == "serial_write":
            if "max_pulses" not in txn.meta:
                raise SimulationError(f"{self.path}: 'serial_write' needs meta max_pulses")
            return setup, max(1, int(field(txn, "max_pulses")) * self.slot_cycles())
        raise SimulationError(f"{self.path}: PulseGenerator cannot perform '{txn.op}' "
                              f"(ops: {', '.join(self.OPS)})")

    def actions(self, txn):
        stochastic = self.params.rng != "deterministic"
        if txn.op == "update":
            fired = int(field(txn, "row_slots")) + int(field(txn, "col_slots"))
            draws = int(field(txn, "rng_draws", self.lines * txn.n_total)) if stochastic else 0
        else:
            pulses = int(field(txn, "pulses"))
            fired = int(field(txn, "row_slots", pulses)) + int(field(txn, "col_slots"))
            draws = int(field(txn, "rng_draws")) if stochastic else 0
        attrs = self._attrs
        yield "pulse_slot", fired, attrs
        yield "rng_draw", draws, attrs

    def area_attrs(self) -> dict:
        return {"rng": self.params.rng, "lines": self.lines}
