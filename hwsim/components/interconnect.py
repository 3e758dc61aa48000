"""Interconnect: the on-chip network between tiles, buffer and digital unit.

A link of ``bandwidth`` bytes per cycle crossed in ``hops`` router hops of
``hop_latency`` cycles each (ISAAC's concentrated mesh, Shafiee et al. ISCA 2016).
A message of ``bytes`` is serialised into flits of ``bandwidth`` bytes, one flit per
cycle; with wormhole routing the head flit needs ``hops · hop_latency`` cycles and
each flit its own cycle on the link, so (cycles of the interconnect clock)::

    transfer of B bytes:  latency  hops·hop_latency + ceil(B / bandwidth)
                          occupancy (II of the operation)  ceil(B / bandwidth)

As a wide block (:mod:`hwsim.components.lanes`, ``w = bandwidth`` bytes per cycle)
this is ``L = hops·hop_latency + 1`` per flit: the last byte arrives
``hops·hop_latency + ceil(B/bandwidth)`` cycles after the first flit is injected, and
the next message may enter ``ceil(B/bandwidth)`` cycles after this one (the network is
pipelined across hops).  One interconnect shared by several routes is one link:
messages serialise in its input queue (``wait_ticks``).

Operation meta keys: ``bytes`` — bytes moved when ``n`` counts something else
(default ``n``).

Actions (ISAAC prices the bus per bit and the router per flit, TECHNOLOGY.md):

* ``transfer_bit`` — one bit moved over one hop's link, count ``8 · bytes · hops``;
* ``flit_hop`` — one flit of ``flit_bytes`` through one router, count
  ``ceil(bytes / flit_bytes) · hops``.
"""
from __future__ import annotations

import math

from hwsim.components.lanes import LanedComponent, as_rate, payload_bytes
from hwsim.config.blocks import InterconnectParams
from hwsim.core import StatSpec, inp, out, register
from hwsim.errors import SimulationError


@register
class Interconnect(LanedComponent):
    KIND = "Interconnect"
    Params = InterconnectParams
    PORTS = (inp("in", "digital_vector", "messages injected by the sources", multi=True),
             out("out", "digital_vector", "messages delivered to the destinations", multi=True))
    ACTIONS = {"transfer_bit": "one bit moved over one hop's link",
               "flit_hop": "one flit through one router"}
    OPS = ("transfer", "buffer_read", "buffer_write")
    STRUCTURAL_ACCOUNTING = True      # bits = 8 × bytes × hops, flits = ceil(bytes/flit)·hops
    STATS = (StatSpec("bytes_moved", "B", "bytes delivered"),)

    def timing(self, txn):
        if txn.op not in self.OPS:
            raise SimulationError(f"{self.path}: Interconnect cannot perform '{txn.op}' "
                                  f"(ops: {', '.join(self.OPS)})")
        p = self.params
        return p.hops * p.hop_latency + 1, 1

    def work(self, txn):
        return payload_bytes(self.path, txn), as_rate(self.params.bandwidth)

    def actions(self, txn):
        nbytes = payload_bytes(self.path, txn)
        yield "transfer_bit", 8 * nbytes * self.params.hops, {}
        yield "flit_hop", math.ceil(nbytes / self.params.flit_bytes) * self.params.hops, {}

    def on_operation(self, txn) -> None:
        self.stats.add("bytes_moved", payload_bytes(self.path, txn))

    def area_attrs(self) -> dict:
        return {"bandwidth": self.params.bandwidth, "hops": self.params.hops}
