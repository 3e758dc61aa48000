"""Exact memoisation of op timing for trace replay (layer 5; training: timing_cache.py).

Replaying a long trace op by op through SimPy costs ~10⁻⁴ s per op; a CIFAR-10 epoch
of a 32-layer network repeats the same few hundred ops hundreds of times.
:class:`OpCache` executes an op through :meth:`Hardware.run_program` the first time
it is seen in a given *machine state*, records everything the execution changed, and
re-applies that record when the same op meets the same state again.

When a hit is exact.  An op's execution depends only on

1. the op itself (kind, n, layer, role, phase and every statistic in ``meta``);
2. the phase of the start tick within the hyperperiod ``T_H`` of the clocks of the
   blocks the op touches — the smallest integer tick count that is a whole number of
   periods of each of them (edges are ``edge(k) = ⌈k·p⌉`` from tick 0, so
   ``edge(k + T_H/p) = edge(k) + T_H``);
3. ``free_at − now`` of every block the op touches that is still busy when the op
   starts (stage starts are ``max(t_arrival, free_at)`` with ``t_arrival ≥ now``, so a
   block free at or before ``now`` is indistinguishable from one free exactly at
   ``now``; blocks the op does not touch cannot change its timing);
4. an empty event queue (nothing in flight) and no half-done wide-block operation —
   true between ops because :meth:`Hardware.flush` runs each op to completion.  The
   previous op's completion events still queued *at the current tick* are processed
   first (an uncached run would process them before anything the next op schedules,
   as they are older); if anything remains in the future, the op is executed plainly
   (``bypassed``).

The key is exactly (1, 2, 3), so a hit reproduces what the simulation would have
done: the elapsed ticks, the per-phase time, every component's ``free_at`` and
statistics (additive ones by their integer increments; ``last_out_tick`` shifted by
the start tick; ``peak_*`` by max), and the ledger — re-recorded call by call in the
original order, so even the float sums of value-dependent counts (``read_cell``)
are bit-identical to an uncached replay.  The only approximation would be a
component whose *additive* statistic is a non-integer float (none today): its
increment is re-added as ``after − before`` and may differ in the last bit.
"""
from __future__ import annotations

import math

from hwsim.core.ledger import ActionKey

_MAX_STATS_PREFIX = "peak_"
_TIME_STATS = ("last_out_tick",)


def hyperperiod(clocks) -> int:
    """Smallest integer tick count that is a whole number of periods of every clock."""
    h = 1
    for c in clocks:
        h = math.lcm(h, c.period.numerator)    # period a/b reduced: T_H multiple of a
    return h


class _TeeLedger:
    """Stands in for the ledger of every component: records into the machine's ledger
    and, while capturing, remembers each call for re-application."""

    def __init__(self, ledger):
        self.main = ledger
        self.calls = None

    def record(self, path, kind, action, count=1, phase=None, **attrs):
        self.main.record(path, kind, action, count, phase=phase, **attrs)
        if self.calls is not None:
            self.calls.append((path, kind, action, count, phase, attrs))

    def record_actions(self, path, kind, phase, actions, declared, undeclared):
        for action, count, attrs in actions:
            if action not in declared:
                undeclared(action)
            self.record(path, kind, action, count, phase, **attrs)

    def __getattr__(self, name):
        return getattr(self.main, name)


class OpCache:
    """Execute ops on a :class:`~hwsim.sim.hardware.Hardware`, reusing exact results."""

    #: hits re-apply the ledger calls captured on a miss (the components record through
    #: a tee while the cache is on)
    CAPTURES_LEDGER = True

    def __init__(self, hw, enabled: bool = True, max_entries: int = 200_000):
        self.hw = hw
        self.enabled = enabled
        self.max_entries = max_entries
        comps = hw.machine.components
        self.comps = comps
        self.tee = _TeeLedger(hw.machine.ledger)
        if self.CAPTURES_LEDGER:
            for c in comps.values():
                c.ledger = self.tee
        self.period = hyperperiod(hw.machine.clocks.values())
        self._periods: dict = {}
        self._blocks: dict = {}
        self.busy: dict = {}
        self.table: dict = {}
        self.hits = self.misses = self.bypassed = 0
        self.lag = 0
        # the ledger's row table: a hit adds its recorded (key, count) increments in the
        # original order, exactly what ActionLedger.record would do call by call
        self._counts = hw.machine.ledger._counts

    # -------------------------------------------------------------------------------
    def _start(self, op):
        """The tick ``op`` starts at, after the previous op's completion events at that
        tick; None when the op was executed plainly (cache off, or events still in the
        future: see the module doc)."""
        hw = self.hw
        now = hw.sim.now + self.lag
        env = hw.sim.env
        while env.peek() <= now:      # completion events of the previous op (no effect)
            env.step()
        if not self.enabled or env.peek() != math.inf:
            self.sync()
            self.bypassed += 1
            hw.run_program([op])
            self._refresh_busy(self.comps)
            return None
        return now

    def run(self, op) -> None:
        """Execute one op (simulated or from the cache)."""
        hw = self.hw
        now = self._start(op)
        if now is None:
            return
        txns = list(hw._transactions(op))
        op_key = self._key_op(op, txns)
        blocks = self._blocks.get(op_key)
        if blocks is None:        # the blocks an op touches and their clocks' hyperperiod
            paths = tuple(sorted({p for _k, _n, route, _m in txns for p in route}))
            blocks = self._blocks[op_key] = (paths, self._period_of(paths))
        paths, period = blocks
        key = self._key(op_key, paths, period, now)
        entry = self.table.get(key)
        if entry is None:
            self._miss(key, op, now)
        else:
            self.hits += 1
            self._apply(entry, now, op, txns)

    def _key(self, op_key, paths, period, start) -> tuple:
        """The cache key of an op starting at ``start`` (the module doc's 1, 2, 3)."""
        busy = self.busy
        state = tuple((p, busy[p] - start) for p in paths if busy.get(p, start) > start) \
            if busy else ()
        return (op_key, start % period, state)

    def _miss(self, key, op, start):
        """Simulate ``op`` from ``start`` (the engine's now) and remember the record."""
        self.misses += 1
        entry = self._simulate(op, start)
        if len(self.table) < self.max_entries:
            self.table[key] = entry
        return entry

    def _period_of(self, paths) -> int:
        """Hyperperiod of the clocks of the blocks an op touches (see the module doc)."""
        period = self._periods.get(paths)
        if period is None:
            period = hyperperiod({self.comps[p].clock for p in paths})
            self._periods[paths] = period
        return period

    def _key_op(self, op, txns):
        """The part of an op its execution depends on (all of it, here)."""
        return op

    def _touched(self, op):
        paths = set()
        for _kind, _n, route, _meta in self.hw._transactions(op):
            paths.update(route)
        return [(p, self.comps[p]) for p in sorted(paths)]

    def _simulate(self, op, t0):
        hw = self.hw
        self.sync()
        touched = self._touched(op)
        before = []
        for _p, c in touched:
            vals = c.stats.values
            saved = dict(vals)
            for k in vals:
                if k in _TIME_STATS or k.startswith(_MAX_STATS_PREFIX):
                    vals[k] = 0                    # collect this op's own maximum
            before.append(saved)
        ops_done = hw.sim.ops_done
        self.tee.calls = []
        try:
            hw.run_program([op])
        finally:
            calls, self.tee.calls = self.tee.calls, None
        t1 = hw.sim.now
        comp_rec = []
        for (p, c), saved in zip(touched, before):
            vals = c.stats.values
            add, maxes, times = {}, {}, {}
            for k, v in vals.items():
                old = saved.get(k, 0)
                if k in _TIME_STATS:
                    if v:
                        times[k] = v - t0
                    vals[k] = max(old, v)
                elif k.startswith(_MAX_STATS_PREFIX):
                    maxes[k] = v
                    vals[k] = max(old, v)
                elif v != old:
                    add[k] = v - old
            comp_rec.append((c, vals, tuple(add.items()), tuple(maxes.items()),
                             tuple(times.items()), c.free_at - t0))
        self._refresh_busy(dict(touched))
        keys = tuple((ActionKey(path, kind, action, tuple(sorted(attrs.items())),
                                ph or self.tee.main.phase), count)
                     for path, kind, action, count, ph, attrs in calls if count)
        return (t1 - t0, op.phase, tuple(comp_rec), keys, hw.sim.ops_done - ops_done)

    def _apply(self, entry, t0, op=None, txns=()) -> None:
        hw = self.hw
        dur, phase, comp_rec, keys, ops_done = entry
        self.lag += dur                       # SimPy time is advanced lazily (sync())
        hw.phase_ticks[phase] = hw.phase_ticks.get(phase, 0) + dur
        hw.ops_executed += 1
        hw.sim.ops_done += ops_done
        busy = self.busy
        for c, vals, add, maxes, times, free_rel in comp_rec:
            for k, v in add:
                vals[k] += v
            for k, v in maxes:
                if v > vals[k]:
                    vals[k] = v
            for k, v in times:
                if t0 + v > vals[k]:
                    vals[k] = t0 + v
            c.free_at = t0 + free_rel
            busy[c.path] = c.free_at
        counts = self._counts
        for key, count in keys:
            counts[key] += count
        now = t0 + dur
        for p in [p for p, f in busy.items() if f <= now]:
            del busy[p]

    def sync(self) -> None:
        """Advance SimPy time over the ops applied from the cache (call before reading
        ``hw.now``)."""
        if self.lag:
            env = self.hw.sim.env
            env.run(until=env.now + self.lag)
            self.lag = 0

    def _refresh_busy(self, comps) -> None:
        now = self.hw.sim.now + self.lag
        for p, c in comps.items():
            if c.free_at > now:
                self.busy[p] = c.free_at
        for p in [p for p, f in self.busy.items() if f <= now]:
            del self.busy[p]

    def stats(self) -> dict:
        return {"enabled": self.enabled, "hits": self.hits, "misses": self.misses,
                "bypassed": self.bypassed, "entries": len(self.table),
                "hyperperiod_ticks": self.period}
