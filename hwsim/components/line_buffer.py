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

from hwsim.components.lanes import ByteStore, as_rate, payload_bytes
from hwsim.config.blocks import LineBufferParams
from hwsim.core import inp, out, register


@register
class LineBuffer(ByteStore):
    KIND = "LineBuffer"
    Params = LineBufferParams
    PORTS = (inp("in", "digital_vector", "input-map words written into the line buffer",
                 multi=True, optional=True),
             out("out", "digital_vector", "patch words read toward the DACs", multi=True,
                 optional=True))
    ACTIONS = {"read_bit": "one bit read from the line buffer",
               "write_bit": "one bit written into the line buffer"}
    OP = "line"
    OPS = (OP,)

    def timing(self, txn):
        self.access(txn)
        return self.params.latency, 1

    def work(self, txn):
        return payload_bytes(self.path, txn), as_rate(self.params.bandwidth)

    def area_attrs(self) -> dict:
        return {"technology": self.params.technology, "capacity": self.params.capacity,
                "bits": 8 * self.params.capacity}
