"""Buffer: on-chip SRAM/eDRAM holding activations, errors and weights between layers.

A banked memory of ``capacity`` bytes with a port of ``bandwidth`` bytes per cycle
(ISAAC eDRAM buffer, Shafiee et al. ISCA 2016; SRAM per-bit energies in Horowitz ISSCC
2014 and CACTI).  An access of ``n`` bytes is a wide operation
(:mod:`hwsim.components.lanes`, ``w = bandwidth`` bytes per cycle)::

    buffer_read / buffer_write / transfer:
        L = latency (access latency),  occupancy ceil(bytes / bandwidth) cycles

so the last byte leaves ``latency + ceil(bytes/bandwidth) − 1`` cycles after the
access starts: exactly ``ceil(bytes/bandwidth)`` cycles with the default 1-cycle
latency.  Reads and writes share the one port (a buffer in several routes
serialises them; contention shows in ``wait_ticks``).

Capacity: an operation moving more bytes than the buffer holds is a
:class:`~hwsim.errors.SimulationError` naming the buffer's path (the mapping must
split it).

Operation meta keys: ``bytes`` — bytes moved when ``n`` counts something else
(vectors; default ``n``); for ``transfer`` also ``access`` — ``"read"`` or ``"write"``
(default: ``read`` when the buffer is the first stage of the route, the source of the
data, else ``write``).

Actions (attr ``technology``): ``read_bit`` / ``write_bit`` — one bit read / written,
count ``8 · bytes``.  Area and static (leakage) power are priced per bit of capacity
(area attributes ``technology``, ``capacity`` in B and ``bits = 8 · capacity``).
"""
from __future__ import annotations

from hwsim.components.lanes import LanedComponent, as_rate, payload_bytes
from hwsim.config.blocks import BufferParams
from hwsim.core import StatSpec, inp, out, register
from hwsim.core.ops import field
from hwsim.errors import SimulationError


@register
class Buffer(LanedComponent):
    KIND = "Buffer"
    Params = BufferParams
    PORTS = (inp("in", "digital_vector", "words written into the buffer", multi=True),
             out("out", "digital_vector", "words read from the buffer", multi=True))
    ACTIONS = {"read_bit": "one bit read from the buffer",
               "write_bit": "one bit written into the buffer"}
    OPS = ("buffer_read", "buffer_write", "transfer")
    STRUCTURAL_ACCOUNTING = True      # bits = 8 × bytes (meta bytes or n)
    STATS = (StatSpec("bytes_read", "B", "bytes read"),
             StatSpec("bytes_written", "B", "bytes written"),
             StatSpec("peak_access_bytes", "B", "largest single access"))

    def access(self, txn) -> str:
        """``"read"`` or ``"write"`` for an operation passing this buffer."""
        if txn.op == "buffer_read":
            return "read"
        if txn.op == "buffer_write":
            return "write"
        if txn.op == "transfer":
            acc = field(txn, "access", "read" if txn.route and txn.route[0] == self.path
                        else "write")
            if acc not in ("read", "write"):
                raise SimulationError(f"{self.path}: transfer access must be 'read' or "
                                      f"'write', got {acc!r}")
            return acc
        raise SimulationError(f"{self.path}: Buffer cannot perform '{txn.op}' "
                              f"(ops: {', '.join(self.OPS)})")

    def access_bytes(self, txn) -> int:
        nbytes = payload_bytes(self.path, txn)
        if nbytes > self.params.capacity:
            raise SimulationError(f"{self.path}: '{txn.op}' of {nbytes} B exceeds the buffer "
                                  f"capacity of {self.params.capacity:g} B")
        return nbytes

    def timing(self, txn):
        self.access(txn)
        self.access_bytes(txn)
        return self.params.latency, 1

    def work(self, txn):
        return self.access_bytes(txn), as_rate(self.params.bandwidth)

    def actions(self, txn):
        action = "read_bit" if self.access(txn) == "read" else "write_bit"
        yield action, 8 * self.access_bytes(txn), {"technology": self.params.technology}

    def on_operation(self, txn) -> None:
        nbytes = self.access_bytes(txn)
        self.stats.add("bytes_read" if self.access(txn) == "read" else "bytes_written", nbytes)
        self.stats.set_max("peak_access_bytes", nbytes)

    def area_attrs(self) -> dict:
        return {"technology": self.params.technology, "capacity": self.params.capacity,
                "bits": 8 * self.params.capacity}
