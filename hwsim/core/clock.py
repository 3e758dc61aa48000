"""Clock domains (layer 2).

Simulation time is an integer number of ticks of 1 ps.  A clock of frequency f has
edges at ``edge(k) = ceil(k · 10¹² / f)`` ticks (exact rational arithmetic, so a
1.28 GHz clock keeps its 781.25 ps period on average without drift).  A component's
latency is an integer number of *its* cycles; crossing a clock domain aligns to the
next edge of the receiving clock (:meth:`Clock.next_edge`).
"""
from __future__ import annotations

from fractions import Fraction

TICKS_PER_SECOND = 10**12  # 1 tick = 1 ps


def seconds_to_ticks(seconds: float) -> int:
    """Round a duration in seconds to integer ticks."""
    return int(round(seconds * TICKS_PER_SECOND))


def ticks_to_seconds(ticks: int) -> float:
    return ticks / TICKS_PER_SECOND


class Clock:
    """One clock domain: name and frequency; converts cycles to integer ticks."""

    def __init__(self, name: str, frequency_hz: float):
        if not frequency_hz > 0:
            raise ValueError(f"clock '{name}': frequency must be > 0, got {frequency_hz}")
        self.name = name
        self.frequency = float(frequency_hz)
        self.period = Fraction(TICKS_PER_SECOND) / Fraction(self.frequency).limit_denominator(10**6)
        # period = pn / pd ticks, kept as integers so edges need no Fraction arithmetic
        self._pn = self.period.numerator
        self._pd = self.period.denominator

    def __repr__(self) -> str:
        return f"Clock({self.name!r}, {self.frequency:g} Hz)"

    def edge(self, k: int) -> int:
        """Tick of the k-th rising edge: ``ceil(k · pn / pd)``."""
        return -((-k * self._pn) // self._pd)

    def edge_index(self, t: int) -> int:
        """Index of the first edge at or after tick ``t``: the least k with
        ``ceil(k·pn/pd) ≥ t``, i.e. ``k·pn/pd > t − 1``, i.e. ``k = floor((t−1)·pd/pn) + 1``
        (and 0 for t ≤ 0)."""
        if t <= 0:
            return 0
        return (t - 1) * self._pd // self._pn + 1

    def next_edge(self, t: int) -> int:
        """First edge at or after tick ``t`` (clock-domain crossing)."""
        return self.edge(self.edge_index(t))

    def cycles_to_ticks(self, cycles: int, start: int = 0) -> int:
        """Duration of ``cycles`` cycles starting at the edge at or after ``start``."""
        k = self.edge_index(start)
        return self.edge(k + cycles) - self.edge(k)
