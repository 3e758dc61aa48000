"""Transactions: bursts of items moving through pipelined stages (layer 2).

A stage has a latency ``L`` and an initiation interval ``II`` in cycles of its own
clock.  A stream of ``n`` items whose first item arrives at ``t_in_first`` and last at
``t_in_last`` leaves the stage with (DESIGN.md, "Time, clocks and cycle accuracy")::

    k0     = edge_index(max(t_in_first, free_at))        # first item accepted
    k_last = max(edge_index(t_in_last), k0 + (n-1)·II)   # last item accepted
    t_out_first = edge(k0 + L)
    t_out_last  = edge(k_last + L)
    free_at'    = edge(k_last + II)                      # next transaction may start

This is exact for uniform streams and costs O(1) events per transaction per stage.
In fine mode every item is its own transaction with ``n = 1`` and the same
recurrence, which is the reference for non-uniform streams.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hwsim.core.clock import Clock


@dataclass
class Transaction:
    """One operation (or one item of it, in fine mode) moving along a route."""
    op: str                      # "forward", "backward", "update", "read_column", ...
    n: int                       # items in this transaction
    route: tuple                 # component paths, in order
    layer: str = ""
    phase: str = ""
    meta: dict = field(default_factory=dict)   # data statistics that drive timing/actions
    t_first: int = 0             # arrival tick of the first item at the current stage
    t_last: int = 0              # arrival tick of the last item at the current stage
    hop: int = 0
    item: int = 0                # index of the first item carried (fine mode)
    n_total: int = 0             # items of the whole operation
    op_id: int = 0
    on_done: object = None       # callable(txn, t_last_out) when the last stage is left


@dataclass(frozen=True)
class StageTiming:
    """Result of one transaction passing one stage (all ticks)."""
    start: int
    first_out: int
    last_out: int
    free_at: int
    busy: int


def stage_timing(clock: Clock, latency: int, ii: int, n: int, t_first: int, t_last: int,
                 free_at: int) -> StageTiming:
    """Apply the burst formula above; ``latency`` and ``ii`` in cycles of ``clock``."""
    if n < 1:
        raise ValueError(f"a transaction needs at least one item, got n={n}")
    if latency < 0 or ii < 1:
        raise ValueError(f"latency must be >= 0 and II >= 1 cycles, got L={latency}, II={ii}")
    k0 = clock.edge_index(max(t_first, free_at))
    k_last = max(clock.edge_index(max(t_last, free_at)), k0 + (n - 1) * ii)
    start = clock.edge(k0)
    free = clock.edge(k_last + ii)
    return StageTiming(start=start, first_out=clock.edge(k0 + latency),
                       last_out=clock.edge(k_last + latency), free_at=free, busy=free - start)
