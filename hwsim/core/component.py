"""The component base class (layer 2): an RTL-style hardware block.

A component has a dotted ``path`` (``chip.tile3.adc``), frozen ``params`` (a
declared config section), declared typed ``PORTS``, a clock domain, ``STATS``
with units, and the ``ACTIONS`` it records in the ledger.  Its SimPy process takes
transactions from its input queue in FIFO order, applies the stage formula of
:mod:`hwsim.core.transaction` with the latency and initiation interval that
:meth:`timing` returns for the operation, records the operation's actions once, and
hands the transaction to the next component of its route when its first item leaves.

Subclasses implement :meth:`timing` and :meth:`actions`; they never compute energy.
"""
from __future__ import annotations

import math

import simpy

from hwsim.core.clock import Clock
from hwsim.core.ledger import ActionLedger
from hwsim.core.ops import part_of
from hwsim.core.stats import Stats
from hwsim.core.transaction import Transaction
from hwsim.errors import SimulationError


class Component:
    """Base of every hardware block."""

    KIND = "Component"
    Params = None                     # the config section class of this kind
    PORTS: tuple = ()                 # PortSpec declarations
    STATS: tuple = ()                 # extra StatSpec declarations
    ACTIONS: dict = {}                # action name -> description
    OPS: tuple = ()                   # operations this block takes part in
    #: True when actions() and on_operation() read only the transaction's structure (n
    #: and the ``structural`` fields of hwsim.core.ops): the op memo then re-adds the
    #: ledger rows and statistics increments of a miss on every hit instead of calling
    #: account() (tests/sim/test_timing_cache.py checks the claim for every such block)
    STRUCTURAL_ACCOUNTING = False

    def __init__(self, path: str, params, clock: Clock, ledger: ActionLedger):
        self.path = path
        self.params = params
        self.clock = clock
        self.ledger = ledger
        self.stats = Stats()
        for spec in self.STATS:
            self.stats.declare(spec.name, spec.unit, spec.desc)
        self.free_at = 0
        self.env = None
        self.router = None
        self.queue = None
        self.timeline = None          # list of (start, end, op, layer) when recording

    # -- to be implemented by blocks -------------------------------------------------
    def timing(self, txn: Transaction) -> tuple[int, int]:
        """(latency, initiation interval) in cycles of this block's clock for ``txn``."""
        raise NotImplementedError

    def actions(self, txn: Transaction):
        """Yield ``(action, count, attrs)`` for the *whole operation* ``txn`` belongs to."""
        return ()

    def account(self, txn: Transaction) -> None:
        """Record the whole operation's actions and value statistics (once per operation,
        in both modes; the op memo calls it for operations it does not simulate)."""
        self.ledger.record_actions(self.path, self.KIND, txn.phase, self.actions(txn),
                                   self.ACTIONS, self._undeclared,
                                   (txn.layer, part_of(txn.op)))
        self.on_operation(txn)

    def on_operation(self, txn: Transaction) -> None:
        """Hook called once per operation (first item) to update value statistics."""

    @property
    def busy_until(self) -> int:
        """Tick from which the block can start its next transaction (``free_at``)."""
        return self.free_at

    def hold_until(self, tick: int) -> None:
        """Mark the block busy until ``tick`` (the op memo applying a remembered op)."""
        self.free_at = tick

    # -- helpers -------------------------------------------------------------------------
    def cycles(self, seconds: float) -> int:
        """Whole cycles of this block's clock that cover ``seconds`` (ceil, 1e-9 slack)."""
        c = seconds * self.clock.frequency
        return max(0, int(math.ceil(c - 1e-9)))

    def record(self, action: str, count: float = 1, phase: str | None = None, **attrs) -> None:
        if action not in self.ACTIONS:
            self._undeclared(action)
        self.ledger.record(self.path, self.KIND, action, count, phase=phase, **attrs)

    def _undeclared(self, action: str):
        raise SimulationError(f"{self.path}: {self.KIND} has no declared action '{action}'")

    def describe(self) -> str:
        return f"{self.KIND} {self.path} @ {self.clock.name}"

    # -- engine ----------------------------------------------------------------------
    def bind(self, env: simpy.Environment, router) -> None:
        """Attach to an environment; ``router.forward(txn, t_first, t_last)`` moves a
        transaction on, ``router.finish(txn, t)`` ends it."""
        self.env = env
        self.router = router
        self.queue = simpy.Store(env)
        env.process(self._run())

    def enqueue_event(self, event) -> None:
        """SimPy callback: put the transaction an event carries into the input queue."""
        self.queue.put(event.value)

    def _run(self):
        """The block's process: the stage formula of :mod:`hwsim.core.transaction`,
        inlined (this loop runs once per transaction and stage)."""
        env = self.env
        get = self.queue.get
        edge, edge_index = self.clock.edge, self.clock.edge_index
        s = self.stats.values
        forward = self.router.forward
        while True:
            txn = yield get()
            latency, ii = self.timing(txn)
            if latency < 0 or ii < 1:
                raise SimulationError(f"{self.path}: latency must be >= 0 and II >= 1 cycles, "
                                      f"got L={latency}, II={ii}")
            if txn.item == 0:
                self.account(txn)
            free_at, t_first, t_last = self.busy_until, txn.t_first, txn.t_last
            k0 = edge_index(t_first if t_first > free_at else free_at)
            k_last = edge_index(t_last if t_last > free_at else free_at)
            if k0 + (txn.n - 1) * ii > k_last:
                k_last = k0 + (txn.n - 1) * ii
            start, free = edge(k0), edge(k_last + ii)
            last_out = edge(k_last + latency)
            s["transactions"] += 1
            s["items"] += txn.n
            s["busy_ticks"] += free - start
            arrived = env.now if env.now > t_first else t_first
            if start > arrived:
                s["wait_ticks"] += start - arrived
            if last_out > s["last_out_tick"]:
                s["last_out_tick"] = last_out
            self.free_at = free
            if self.timeline is not None:
                self.timeline.append((start, free, txn.op, txn.layer, txn.phase))
            forward(txn, edge(k0 + latency), last_out)
