"""Hardware operations and programs (layer 5).

A training algorithm is written once as the sequence of :class:`Op` it issues on the
accelerator (forward MVM on C, pulsed update on A, column read, chopper flip,
accumulate, digital work...).  The same list of ops is what a trace records and
what replay executes, so a run's cost and its replay can never disagree.

Op kinds, what their ``n`` counts and the fields they carry are declared once, in the
op schema :mod:`hwsim.core.ops`; :meth:`Program.append`
validates every op against it: an unknown kind or field is an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from hwsim.core import ops as schema

PHASES = ("forward", "backward", "update", "transfer", "digital", "idle")


class Op(NamedTuple):
    """One hardware operation of a program (immutable; a named tuple: training issues
    tens of thousands per epoch, and the op memo hashes them)."""
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
        """Add ``op`` after checking it against the op schema (SimulationError)."""
        schema.check(op.op, op.n, op.meta)
        self.ops.append(op)

    def mark_step(self, samples: int) -> None:
        self.steps.append(len(self.ops))
        self.samples += samples

    def clear(self) -> None:
        self.ops.clear()
        self.steps.clear()
        self.samples = 0
