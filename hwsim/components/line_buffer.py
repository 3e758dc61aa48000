"""Line buffer: the small SRAM a conv layer's im2col patches are re-read from.

A 2-D sliding window of ``k_h`` rows needs only the last ``k_h − 1`` rows of the input
map plus the incoming one (line-buffered stencils, e.g. Hegarty et al., Darkroom,
SIGGRAPH 2014): each input pixel is written once and every patch element (``k_h·k_w``
per output pixel) is read from the line buffer instead of the buffer or DRAM.  Which
reads it serves is the placement of the ``move`` ops (:func:`hwsim.sim.hardware.move_specs`);
this block only times and counts them.  A port of ``bandwidth`` bytes per cycle, a wide
operation (:mod:`hwsim.components.lanes`)::

    line (read or write) of B bytes:  L = latency,  occupancy ceil(B / bandwidth) cycles

Operation meta keys: ``bytes`` (default ``n``) and ``access`` (``read``/``write``).
Actions (attr ``technology``): ``read_bit`` / ``write_bit``, count ``8 · bytes``.  Area
and static power are priced per bit of capacity (area attributes ``technology``,
``capacity`` in B and ``bits = 8 · capacity``), like the buffer's.
"""
from __future__ import annotations

from hwsim.components.lanes import LanedComponent, as_rate, payload_bytes
from hwsim.config.blocks import LineBufferParams
from hwsim.core import StatSpec, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError


@register
class LineBuffer(LanedComponent):
    KIND = "LineBuffer"
    Params = LineBufferParams
    PORTS = (inp("in", "digital_vector", "input-map words written into the line buffer",
                 multi=True, optional=True),
             out("out", "digital_vector", "patch words read toward the DACs", multi=True,
                 optional=True))
    ACTIONS = {"read_bit": "one bit read from the line buffer",
               "write_bit": "one bit written into the line buffer"}
    OPS = ("line",)
    STRUCTURAL_ACCOUNTING = True      # bits = 8 × bytes
    STATS = (StatSpec("bytes_read", "B", "bytes read"),
             StatSpec("bytes_written", "B", "bytes written"))

    def access(self, txn) -> str:
        if txn.op != "line":
            raise SimulationError(f"{self.path}: LineBuffer cannot perform '{txn.op}' "
                                  f"(ops: line)")
        acc = field(txn, "access", "read")
        if acc not in ("read", "write"):
            raise SimulationError(f"{self.path}: line access must be 'read' or 'write', "
                                  f"got {acc!r}")
        return acc

    def timing(self, txn):
        self.access(txn)
        return self.params.latency, 1

    def work(self, txn):
        return payload_bytes(self.path, txn), as_rate(self.params.bandwidth)

    def actions(self, txn):
        action = "read_bit" if self.access(txn) == "read" else "write_bit"
        yield action, 8 * payload_bytes(self.path, txn), {"technology": self.params.technology}

    def on_operation(self, txn) -> None:
        self.stats.add("bytes_read" if self.access(txn) == "read" else "bytes_written",
                       payload_bytes(self.path, txn))

    def area_attrs(self) -> dict:
        return {"technology": self.params.technology, "capacity": self.params.capacity,
                "bits": 8 * self.params.capacity}
