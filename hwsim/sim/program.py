"""Hardware operations and programs (layer 5).

A training algorithm is written once as the sequence of :class:`Op` it issues on the
accelerator (forward MVM on C, pulsed update on A, column read, chopper flip,
accumulate, digital work...).  The same list of ops is what a trace records and
what replay executes, so a run's cost and its replay can never disagree.

Op kinds and their ``n`` (items) and ``meta`` statistics:

=============  ==========================  ================================================
op             n                           meta
=============  ==========================  ================================================
forward        vectors (incl. BM repeats)  sum_gv2 (Σ ĝ·v̂²), adc_saturations
backward       vectors (incl. BM repeats)  sum_gv2
read_column    vectors (one per column)    sum_gv2, col (first column index)
update         pulse slots Σ_b BL_b        pulses, row_slots, col_slots, samples
serial_write   row steps                   pulses, max_pulses
accumulate     elements added              compares, writes
flip           chopper lines flipped       —
digital        digital operations          kind (activation, loss_grad, partial_sum, ...)
transfer       bytes                       —
=============  ==========================  ================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

OP_KINDS = ("forward", "backward", "read_column", "update", "serial_write", "accumulate",
            "flip", "digital", "transfer")
PHASES = ("forward", "backward", "update", "transfer", "digital", "idle")


class Op(NamedTuple):
    """One hardware operation of a program (immutable; a named tuple: training issues
    tens of thousands per epoch, and the timing cache hashes them)."""
    op: str
    n: int
    layer: str = ""
    role: str = "W"            # array role on the layer: W, A, C, R, P, N
    phase: str = "forward"
    meta: tuple = ()           # sorted (key, value) pairs

    def meta_dict(self) -> dict:
        return dict(self.meta)

    def to_dict(self) -> dict:
        return {"op": self.op, "n": self.n, "layer": self.layer, "role": self.role,
                "phase": self.phase, "meta": dict(self.meta)}

    @staticmethod
    def from_dict(d: dict) -> "Op":
        return Op(d["op"], int(d["n"]), d.get("layer", ""), d.get("role", "W"),
                  d.get("phase", "forward"), tuple(sorted((d.get("meta") or {}).items())))


@dataclass
class Program:
    """An ordered list of ops; ``steps`` marks where each mini-batch starts."""
    ops: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    samples: int = 0

    def append(self, op: Op) -> None:
        if op.op not in OP_KINDS:
            raise ValueError(f"unknown op kind '{op.op}' (known: {', '.join(OP_KINDS)})")
        if op.n < 0:
            raise ValueError(f"op '{op.op}' with negative item count {op.n}")
        self.ops.append(op)

    def mark_step(self, samples: int) -> None:
        self.steps.append(len(self.ops))
        self.samples += samples

    def clear(self) -> None:
        self.ops.clear()
        self.steps.clear()
        self.samples = 0
