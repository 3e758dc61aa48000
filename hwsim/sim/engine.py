"""The simulation engine (layer 5): a SimPy environment and a transaction router.

:class:`Simulator` owns the ``simpy.Environment`` (time in integer ticks of 1 ps),
binds components in path order, and moves operations along their routes:

* **burst** mode (default): one transaction of ``n`` items per operation, O(1) events
  per stage (see :mod:`hwsim.core.transaction`);
* **item** (fine) mode: one transaction per item; the reference for non-uniform
  streams.  Both modes agree to the tick on uniform streams (tested).

Shared blocks (an ADC bank serving two tiles, a bus) are single components that
several routes pass through; their FIFO input queue serialises transactions, so
contention appears as waiting time in their statistics.
"""
from __future__ import annotations

import simpy

from hwsim.core.ledger import ActionLedger
from hwsim.core.transaction import Transaction
from hwsim.errors import SimulationError


class OpHandle:
    """Completion of one operation: ``done`` (SimPy event, at ``t_end``), ``t_start``.

    ``streaming`` succeeds as soon as every part has been accepted by its final stage,
    when the output stream is known: first item at ``t_first_out``, last at ``t_end``
    (burst mode computes both when the last stage accepts the transaction)."""

    __slots__ = ("done", "streaming", "t_start", "t_end", "t_first_out", "remaining",
                 "op_id")

    def __init__(self, env, op_id, n_parts, t_start):
        self.done = env.event()
        self.streaming = env.event()
        self.t_start = t_start
        self.t_end = t_start
        self.t_first_out = None
        self.remaining = n_parts
        self.op_id = op_id


class Simulator:
    """Runs transactions through a graph of bound components."""

    GRANULARITIES = ("burst", "item")

    def __init__(self, components: dict, adjacency: dict | None = None,
                 granularity: str = "burst", ledger: ActionLedger | None = None,
                 timeline: bool = False, start_tick: int = 0):
        if granularity not in self.GRANULARITIES:
            raise SimulationError(f"granularity must be one of {self.GRANULARITIES}, got "
                                  f"'{granularity}'")
        # a resumed run continues at its absolute time, so clock edges align as before
        self.env = simpy.Environment(initial_time=int(start_tick))
        self.components = dict(sorted(components.items()))
        self.adjacency = adjacency
        self.granularity = granularity
        self.ledger = ledger if ledger is not None else ActionLedger()
        self._next_id = 0
        self.ops_done = 0
        self._routes_checked: set = set()
        for comp in self.components.values():
            comp.bind(self.env, self)
            if timeline:
                comp.timeline = []

    @property
    def now(self) -> int:
        return int(self.env.now)

    def check_route(self, route) -> None:
        """Every step of a route must follow a connection of the graph (explicit form)."""
        if not route:
            raise SimulationError("an operation needs a route of at least one component")
        for p in route:
            if p not in self.components:
                raise SimulationError(f"route names unknown component '{p}'")
        if self.adjacency is not None:
            for a, b in zip(route, route[1:]):
                if b not in self.adjacency.get(a, ()):
                    raise SimulationError(f"route step {a} -> {b} follows no connection")

    def submit(self, op: str, n: int, route, *, layer: str = "", phase: str = "",
               meta: dict | None = None, at: int | None = None,
               last: int | None = None) -> OpHandle:
        """Start operation ``op`` of ``n`` items along ``route``: its first item enters at
        tick ``at`` (now), its last no earlier than ``last`` (a stream arriving from a
        previous operation; burst mode only)."""
        if n < 1:
            raise SimulationError(f"operation '{op}' needs n >= 1 items, got {n}")
        route = tuple(route)
        if route not in self._routes_checked:
            self.check_route(route)
            self._routes_checked.add(route)
        t0 = self.now if at is None else int(at)
        if t0 < self.now:
            raise SimulationError(f"cannot start '{op}' in the past ({t0} < {self.now})")
        self._next_id += 1
        meta = meta or {}
        parts = 1 if self.granularity == "burst" else n
        if last is not None and (parts != 1 or last < t0):
            raise SimulationError("a streamed start (last > at) needs burst granularity and "
                                  f"last >= at, got at={t0}, last={last}")
        t_last = t0 if last is None else int(last)
        handle = OpHandle(self.env, self._next_id, parts, t0)
        first = self.components[route[0]]

        def on_done(txn, t_end, handle=handle):
            handle.t_end = max(handle.t_end, t_end)
            tf = txn.t_first
            handle.t_first_out = tf if handle.t_first_out is None else min(handle.t_first_out, tf)
            handle.remaining -= 1
            if handle.remaining == 0:
                handle.streaming.succeed(handle)
                self.ops_done += 1
                ev = self.env.timeout(handle.t_end - self.now)
                ev.callbacks.append(lambda _e: handle.done.succeed(handle))

        sizes = [(0, n)] if parts == 1 else [(i, 1) for i in range(n)]
        txns = [Transaction(op=op, n=k, route=route, layer=layer, phase=phase, meta=meta,
                            t_first=t0, t_last=t_last, item=i, n_total=n, op_id=handle.op_id,
                            on_done=on_done) for i, k in sizes]

        def inject(_e=None):
            for t in txns:
                first.queue.put(t)

        if t0 == self.now:
            inject()
        else:
            self.env.timeout(t0 - self.now).callbacks.append(inject)
        return handle

    # -- router interface used by components ---------------------------------------
    def forward(self, txn: Transaction, t_first: int, t_last: int) -> None:
        txn.t_first, txn.t_last = t_first, t_last
        txn.hop += 1
        if txn.hop >= len(txn.route):
            txn.on_done(txn, t_last)
            return
        nxt = self.components[txn.route[txn.hop]]
        delay = t_first - self.env.now
        if delay <= 0:
            nxt.queue.put(txn)
        else:   # the timeout carries the transaction; the block's own callback enqueues it
            self.env.timeout(delay, txn).callbacks.append(nxt.enqueue_event)

    def run(self, until=None) -> int:
        """Run until no events remain (or ``until``); return the final tick."""
        self.env.run(until=until)
        return self.now

    def run_op(self, op: str, n: int, route, **kw) -> OpHandle:
        """Submit one operation and run the environment until it is done."""
        h = self.submit(op, n, route, **kw)
        self.env.run(until=h.done)
        return h
