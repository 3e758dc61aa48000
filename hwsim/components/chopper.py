"""Chopper: sign-flip circuits on the input (column) and/or output (row) lines of a tile.

c-TTv2 and AGAD (Rasch et al., Nat. Commun. 15:7133, 2024; PHYSICS.md §4) multiply
the gradient written to the fast array A and the column read from it by per-line
signs ``c_in ∈ {±1}ᴺ``, ``c_out ∈ {±1}ᴹ`` so that static offsets average out; a line's
sign flips with probability ``p_in`` after its read (``c_out`` after a full sweep).

Hardware: each chopped line has a polarity switch (swap of the differential drive or
sense pair) controlled by one bit of a sign register.  A ``flip`` operation writes
the new signs of all ``n`` flipping lines into that register in the same cycle, so
all lines flip in parallel (a wide block, :mod:`hwsim.components.lanes`, with
``w = n`` lines per cycle)::

    flip:  L = latency, occupancy 1 cycle, whatever n     (cycles of the chopper clock)

The switches sit in the signal path but add no cycles to MVMs (a transmission gate
settles within the integration time), so the chopper takes part only in ``flip``
operations and its ports are side connections (both optional; the compact form wires
``lines`` to the tile's ``signs``, which is how a flip finds its tile's chopper).

Operation meta keys: none required (``n`` = lines whose sign flips; ``n`` may not
exceed the chopped lines: ``cols`` if ``inputs`` + ``rows`` if ``outputs``).

Actions: ``flip`` — one line's sign toggled (count ``n``).
"""
from __future__ import annotations

from fractions import Fraction

from hwsim.components.lanes import LanedComponent
from hwsim.config.blocks import ChopperParams
from hwsim.core import StatSpec, inp, out, register
from hwsim.errors import SimulationError


@register
class Chopper(LanedComponent):
    KIND = "Chopper"
    Params = ChopperParams
    PORTS = (inp("ctrl", "bits", "flip commands (new signs) from the controller", optional=True),
             out("lines", "bits", "sign control of the tile's chopped lines", optional=True))
    ACTIONS = {"flip": "one line's chopper sign toggled"}
    OPS = ("flip",)
    STRUCTURAL_ACCOUNTING = True      # flips = n
    STATS = (StatSpec("flips", "lines", "line sign flips applied"),)

    def __init__(self, path, params, clock, ledger, rows: int = 1, cols: int = 1):
        super().__init__(path, params, clock, ledger)
        self.rows = rows
        self.cols = cols

    @property
    def lines(self) -> int:
        """Lines with a chopper switch."""
        return (self.cols if self.params.inputs else 0) + (self.rows if self.params.outputs else 0)

    def _check(self, txn) -> None:
        if txn.op != "flip":
            raise SimulationError(f"{self.path}: Chopper cannot perform '{txn.op}' (ops: flip)")
        if txn.n_total > self.lines:
            raise SimulationError(f"{self.path}: flip of {txn.n_total} lines, but only "
                                  f"{self.lines} lines have a chopper (inputs="
                                  f"{self.params.inputs}, outputs={self.params.outputs})")

    def timing(self, txn):
        self._check(txn)
        return self.params.latency, 1

    def work(self, txn):
        return txn.n_total, Fraction(txn.n_total)

    def actions(self, txn):
        yield "flip", txn.n_total, {}

    def on_operation(self, txn) -> None:
        self.stats.add("flips", txn.n_total)

    def area_attrs(self) -> dict:
        return {"lines": self.lines}
