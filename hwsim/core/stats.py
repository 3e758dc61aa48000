"""Statistics with units and descriptions (layer 2).

Every statistic a component keeps is declared with a unit and a description, so a
report can print it without guessing.  Values are plain numbers (time in ticks).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatSpec:
    name: str
    unit: str
    desc: str


#: Statistics every component keeps.
COMMON_STATS = (
    StatSpec("transactions", "txn", "transactions (bursts of items) processed"),
    StatSpec("items", "items", "items (vectors, columns, pulse slots) processed"),
    StatSpec("busy_ticks", "ps", "time the component was occupied accepting items"),
    StatSpec("wait_ticks", "ps", "time transactions waited in the input queue (contention)"),
    StatSpec("last_out_tick", "ps", "time the last item left the component"),
)


class Stats:
    """A component's statistics: declared specs and their values."""

    def __init__(self, specs=COMMON_STATS):
        self.specs = {s.name: s for s in specs}
        self.values = {s.name: 0 for s in specs}

    def declare(self, name: str, unit: str, desc: str) -> None:
        self.specs[name] = StatSpec(name, unit, desc)
        self.values.setdefault(name, 0)

    def add(self, name: str, value) -> None:
        if name not in self.specs:
            raise KeyError(f"statistic '{name}' was not declared")
        self.values[name] += value

    def set_max(self, name: str, value) -> None:
        if name not in self.specs:
            raise KeyError(f"statistic '{name}' was not declared")
        self.values[name] = max(self.values[name], value)

    def __getitem__(self, name):
        return self.values[name]

    def as_dict(self) -> dict:
        return {n: {"value": self.values[n], "unit": s.unit, "desc": s.desc}
                for n, s in sorted(self.specs.items())}
