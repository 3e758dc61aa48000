"""DRAM: the off-chip memory holding what does not fit in the buffer.

A channel of ``bandwidth`` bytes per second with an access ``latency`` (row activate +
column read), clocked in the chip's digital domain.  An access of ``B`` bytes is a wide
operation (:mod:`hwsim.components.lanes`, ``w = bandwidth / f`` bytes per cycle of the
block's clock ``f``)::

    dram (read or write) of B bytes:
        L = ceil(latency · f),  occupancy ceil(B / w) cycles

so the last byte arrives ``L + ceil(B·f / bandwidth) − 1`` cycles after the access
starts: at LPDDR4-3200 ×32 (12.8 GB/s) and 1 GHz, 1 MiB takes 81 920 cycles + latency.
Reads and writes share the channel (several accesses serialise: ``wait_ticks``).
DRAM has no capacity limit in the model (it holds what the buffer cannot).

Operation meta keys: ``bytes`` (default ``n``), ``access`` — ``"read"`` or ``"write"``
(default ``read``).

Actions (attr ``technology``): ``read_bit`` / ``write_bit`` — one bit read / written,
count ``8 · bytes`` (LPDDR4 8 pJ/bit, Timeloop reference outputs; HBM2 3.9 pJ/bit,
GDDR5 14 pJ/bit, DNN+NeuroSim V2.1).
"""
from __future__ import annotations

from fractions import Fraction

from hwsim.components.lanes import ByteStore, payload_bytes
from hwsim.config.blocks import DRAMParams
from hwsim.core import inp, out, register
from hwsim.errors import SimulationError


@register
class DRAM(ByteStore):
    KIND = "DRAM"
    Params = DRAMParams
    PORTS = (inp("in", "digital_vector", "words written to DRAM", multi=True, optional=True),
             out("out", "digital_vector", "words read from DRAM", multi=True, optional=True))
    ACTIONS = {"read_bit": "one bit read from DRAM",
               "write_bit": "one bit written to DRAM"}
    OP = "dram"
    OPS = (OP,)

    def timing(self, txn):
        self.access(txn)
        return max(1, self.cycles(self.params.latency)), 1

    def bytes_per_cycle(self) -> Fraction:
        rate = Fraction(self.params.bandwidth / self.clock.frequency).limit_denominator(10**6)
        if rate <= 0:
            raise SimulationError(f"{self.path}: bandwidth must be > 0")
        return rate

    def work(self, txn):
        return payload_bytes(self.path, txn), self.bytes_per_cycle()

    def area_attrs(self) -> dict:
        return {"technology": self.params.technology}
