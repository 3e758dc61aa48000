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
from hwsim.core.stats import Stats
from hwsim.core.transaction import Transaction, stage_timing
from hwsim.errors import SimulationError


class Component:
    """Base of every hardware block."""

    KIND = "Component"
    Params = None                     # the config section class of this kind
    PORTS: tuple = ()                 # PortSpec declarations
    STATS: tuple = ()                 # extra StatSpec declarations
    ACTIONS: dict = {}                # action name -> description
    OPS: tuple = ()                   # operations this block takes part in

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

    def on_operation(self, txn: Transaction) -> None:
        """Hook called once per operation (first item) to update value statistics."""

    def items(self, txn: Transaction) -> int:
        """Items this block processes for an operation of ``txn.n_total`` items."""
        return txn.n_total

    # -- helpers -------------------------------------------------------------------------
    def cycles(self, seconds: float) -> int:
        """Whole cycles of this block's clock that cover ``seconds`` (ceil, 1e-9 slack)."""
        c = seconds * self.clock.frequency
        return max(0, int(math.ceil(c - 1e-9)))

    def record(self, action: str, count: float = 1, phase: str | None = None, **attrs) -> None:
        if action not in self.ACTIONS:
            raise SimulationError(f"{self.path}: {self.KIND} has no declared action '{action}'")
        self.ledger.record(self.path, self.KIND, action, count, phase=phase, **attrs)

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

    def _run(self):
        env = self.env
        while True:
            txn = yield self.queue.get()
            latency, ii = self.timing(txn)
            if txn.item == 0:
                for action, count, attrs in self.actions(txn):
                    self.record(action, count, phase=txn.phase, **attrs)
                self.on_operation(txn)
            st = stage_timing(self.clock, latency, ii, txn.n, txn.t_first, txn.t_last, self.free_at)
            s = self.stats.values
            s["transactions"] += 1
            s["items"] += txn.n
            s["busy_ticks"] += st.busy
            s["wait_ticks"] += max(0, st.start - max(env.now, txn.t_first))
            s["last_out_tick"] = max(s["last_out_tick"], st.last_out)
            self.free_at = st.free_at
            if self.timeline is not None:
                self.timeline.append((st.start, st.free_at, txn.op, txn.layer, txn.phase))
            self.router.forward(txn, st.first_out, st.last_out)
