"""Exact timing cache for training (layer 5): :class:`TimingCache`.

Training issues the same few op structures every mini-batch with fresh data statistics
(pulses, Σ ĝv̂², saturations …).  The cache of :mod:`hwsim.sim.opcache` would miss on
every op; this one keys an op on what its *timing* depends on and replays the simulated
timing on a hit while the blocks still account the op's actual values, so cached and
uncached runs give bit-identical reports (tests/sim/test_timing_cache.py).
"""
from __future__ import annotations

from hwsim.core.transaction import Transaction
from hwsim.sim.hardware import txn_meta
from hwsim.sim.opcache import _MAX_STATS_PREFIX, OpCache

#: Op statistics that feed only actions and value statistics, never timing: a
#: component's ``timing()`` reads structure (n, lines, max_pulses, bytes, kind), not
#: these (checked for every block by tests/sim/test_timing_cache.py).
VALUE_STATS = frozenset({"sum_gv2", "pulses", "row_slots", "col_slots", "rng_draws",
                         "adc_saturations", "samples", "compares", "writes", "reads"})
#: Statistics every component keeps that depend on timing alone (hwsim.core.stats).
_TIMING_STATS = frozenset({"transactions", "items", "busy_ticks", "wait_ticks", "last_out_tick"})


class _Timing:
    """What one simulated op did, relative to its start tick ``t0``: elapsed ticks, phase,
    per touched block ``(component, integer statistic increments, maxima, last output
    − t0, free_at − t0)`` and engine ops.  ``deferrable``: every increment is an integer
    and no block stays busy past the op's end, so hits may be added up lazily
    (``pending`` hits, the latest at ``t_last``) until someone reads the statistics."""
    __slots__ = ("dur", "phase", "rec", "ops_done", "deferrable", "pending", "t_last")

    def __init__(self, dur, phase, rec, ops_done):
        self.dur, self.phase, self.rec, self.ops_done = dur, phase, rec, ops_done
        self.deferrable = all(free_rel <= dur and all(type(v) is int for _k, v in add)
                              for _c, add, _m, _l, free_rel in rec)
        self.pending = self.t_last = 0


class _Rows:
    """Ledger increments ``((ActionKey, count), ...)`` of an op structure's blocks with
    STRUCTURAL_ACCOUNTING; integer counts are added in bulk (``pending`` hits)."""
    __slots__ = ("rows", "deferrable", "pending")

    def __init__(self, rows):
        self.rows = rows
        self.deferrable = all(type(c) is int for _k, c in rows)
        self.pending = 0


class TimingCache(OpCache):
    """An :class:`OpCache` for training, whose ops carry fresh data statistics every
    mini-batch.  The key keeps only the op's timing-relevant part (its meta without
    :data:`VALUE_STATS`), so a hit reuses the simulated *timing* (elapsed ticks,
    per-phase time, ``free_at``, the timing statistics) while every component's
    ``actions()`` and ``on_operation()`` are evaluated on the actual op, in the
    order the engine would record them.  Ledger counts of one (component, action)
    row are added in op order either way, so cached and uncached runs give
    bit-identical reports (a test compares them).

    Blocks with ``STRUCTURAL_ACCOUNTING`` (their actions and statistics read only what
    the key holds) are not called on hits: the ledger rows and statistics increments of
    the miss are re-added.  What an op of a given structure needs on a hit — its key,
    the blocks it touches, the transactions whose blocks must see the actual values and
    the structural ledger rows — is worked out once per structure (a *recipe*).

    Hits whose statistics increments and structural ledger counts are all integers are
    added in bulk: each entry counts its pending hits and :meth:`sync` (called before any
    simulated op, by ``Hardware.sync`` before reports and checkpoints) adds increment ×
    hits — integer sums are exact in any order; maxima and last output ticks come from
    each entry's latest hit.  Value-dependent (float) ledger rows are still added op by
    op, in op order."""

    CAPTURES_LEDGER = False          # hits evaluate the components' actions afresh

    def __init__(self, hw, enabled: bool = True, max_entries: int = 200_000):
        super().__init__(hw, enabled, max_entries)
        self._recipes: dict = {}      # op structure → recipe
        self._by_key: dict = {}       # op key → recipe (ops differing only in ``col``)
        self._dirty: list = []        # _Timing entries with deferred hits
        self._dirty_rows: list = []   # _Rows with deferred hits

    def run(self, op) -> None:
        hw = self.hw
        if not hw.structural(op):     # transactions depend on the op's values
            OpCache.run(self, op)
            return
        now = self._start(op)
        if now is None:
            return
        shape = (op.op, op.n, op.layer, op.role, op.phase,
                 tuple([kv for kv in op.meta if kv[0] not in VALUE_STATS]))
        recipe = self._recipes.get(shape)
        if recipe is None:
            recipe = self._recipes[shape] = self._recipe(op)
        op_key, paths, period, live, rows, clock, firsts = recipe
        start = clock.edge(clock.edge_index(now)) if clock is not None else now
        key = self._key(op_key, paths, period, start)
        entry = self.table.get(key)
        if entry is None:
            if start > now:
                self.sync()
                hw.sim.env.run(until=start)
            self._miss(key, op, start)
        else:
            self.hits += 1
            self._account_live(op, live, rows)
            self.lag += start - now
            self._apply_timing(entry, start)
        if start > now:               # what the op saw of the wait for its first edge
            hw.phase_ticks[op.phase] = hw.phase_ticks.get(op.phase, 0) + start - now
            for vals in firsts:
                vals["wait_ticks"] += start - now

    def _recipe(self, op):
        """(key, touched paths, their hyperperiod, live transactions, structural rows,
        start clock, statistics of the first block of every transaction).

        Start clock: when every transaction enters a block of one clock (and the engine
        runs bursts), an op issued at ``now`` does exactly what it would do issued at
        that clock's next edge ``e``, except that each transaction waits ``e − now``
        longer in its first block's queue and the op's phase lasts ``e − now`` longer.
        The cache therefore keys and replays the op from ``e`` and adds those waits:
        fewer distinct start phases, fewer misses.  (Blocks free at or before ``e``
        cannot delay it: every stage starts at an edge ≥ ``e``.)"""
        hw = self.hw
        txns = list(hw._transactions(op))
        op_key = self._key_op(op, txns)
        recipe = self._by_key.get(op_key)
        if recipe is None:
            paths = tuple(sorted({p for _k, _n, route, _m in txns for p in route}))
            live, rows = self._accounting(op, hw.txn_specs(op), txns)
            firsts = [self.comps[route[0]] for _k, _n, route, _m in txns]
            clocks = {c.clock for c in firsts}
            clock = clocks.pop() if len(clocks) == 1 and hw.sim.granularity == "burst" \
                else None
            recipe = self._by_key[op_key] = (
                op_key, paths, self._period_of(paths), live, rows, clock,
                tuple(c.stats.values for c in firsts) if clock is not None else ())
        return recipe

    def _key_op(self, op, txns):
        """The transactions the op expands to, without value statistics: timing depends
        on which blocks run how many items of what shape, not on the data (``col`` only
        selects the tiles of a column read, which the routes already say)."""
        # meta keys come in a fixed order for a given op structure: no sorting needed
        return (op.phase,) + tuple(
            (kind, n, route, tuple([(k, v) for k, v in meta.items()
                                    if k not in VALUE_STATS and k != "col"]))
            for kind, n, route, meta in txns)

    def _simulate(self, op, t0):
        hw = self.hw
        self.sync()
        touched = self._touched(op)
        before = []
        for _p, c in touched:
            vals = c.stats.values
            before.append(dict(vals))
            if c.STRUCTURAL_ACCOUNTING:
                for k in vals:
                    if k.startswith(_MAX_STATS_PREFIX):
                        vals[k] = 0                # collect this op's own maximum
        ops_done = hw.sim.ops_done
        hw.run_program([op])
        t1 = hw.sim.now
        rec = []
        for (p, c), saved in zip(touched, before):
            vals = c.stats.values
            structural = c.STRUCTURAL_ACCOUNTING
            add, maxes = [], []
            for k, v in vals.items():
                old = saved.get(k, 0)
                if k == "last_out_tick":
                    continue
                if k.startswith(_MAX_STATS_PREFIX):
                    if structural:
                        maxes.append((k, v))
                        vals[k] = max(old, v)
                elif v != old and (structural or k in _TIMING_STATS):
                    add.append((k, v - old))
            last = vals["last_out_tick"] - t0 if vals["last_out_tick"] > saved.get(
                "last_out_tick", 0) else None
            rec.append((c, tuple(add), tuple(maxes), last, c.free_at - t0))
        self._refresh_busy(dict(touched))
        return _Timing(t1 - t0, op.phase, tuple(rec), hw.sim.ops_done - ops_done)

    def _accounting(self, op, specs, txns):
        """``live``: per transaction whose blocks must see the actual op (value
        statistics), its spec and those blocks; ``rows``: the ledger increments of the
        blocks with STRUCTURAL_ACCOUNTING, the same on every hit of this structure."""
        ledger, live, rows = self.hw.machine.ledger, [], []
        for spec, (kind, n, route, meta) in zip(specs, txns):
            blocks = []
            for path in route:
                c = self.comps[path]
                if not c.STRUCTURAL_ACCOUNTING:
                    blocks.append(c)
                    continue
                txn = Transaction(op=kind, n=n, route=route, layer=op.layer, phase=op.phase,
                                  meta=meta, item=0, n_total=n)
                rows.extend((ledger.key(path, c.KIND, action, op.phase, attrs), count)
                            for action, count, attrs in c.actions(txn) if count)
            if blocks:
                live.append((spec, tuple(blocks)))
        return tuple(live), _Rows(tuple(rows))

    def _account_live(self, op, live, rows) -> None:
        """A hit's actions: the live blocks see the op's values, structural rows re-added
        (in bulk by :meth:`_settle` when their counts are integers)."""
        meta, layer, phase = op.meta, op.layer, op.phase
        for spec, blocks in live:
            kind, n, route = spec[0], spec[1], spec[2]
            txn = Transaction(op=kind, n=n, route=route, layer=layer, phase=phase,
                              meta=txn_meta(spec, meta), item=0, n_total=n)
            for c in blocks:
                c.account(txn)
        if rows.deferrable:
            if not rows.pending:
                self._dirty_rows.append(rows)
            rows.pending += 1
        else:
            counts = self._counts
            for key, count in rows.rows:
                counts[key] += count

    def _apply_timing(self, entry, t0) -> None:
        hw = self.hw
        dur = entry.dur
        self.lag += dur
        hw.phase_ticks[entry.phase] = hw.phase_ticks.get(entry.phase, 0) + dur
        hw.ops_executed += 1
        hw.sim.ops_done += entry.ops_done
        busy = self.busy
        if entry.deferrable:          # statistics added in bulk by _settle
            if not entry.pending:
                self._dirty.append(entry)
            entry.pending += 1
            entry.t_last = t0
        else:
            for c, add, maxes, last, free_rel in entry.rec:
                vals = c.stats.values
                for k, v in add:
                    vals[k] += v
                for k, v in maxes:
                    if v > vals[k]:
                        vals[k] = v
                if last is not None and t0 + last > vals["last_out_tick"]:
                    vals["last_out_tick"] = t0 + last
                c.free_at = t0 + free_rel
                busy[c.path] = c.free_at
        if busy:
            now = t0 + dur
            for p in [p for p, f in busy.items() if f <= now]:
                del busy[p]

    def _settle(self) -> None:
        """Add what deferred hits did to the statistics (integer increments × hits;
        maxima and the last output / free tick of each entry's latest hit) and the
        structural ledger rows (integer counts × hits).  Sums of integers are exact in
        any order, so the totals equal those of applying every hit at once."""
        for e in self._dirty:
            k, t = e.pending, e.t_last
            for c, add, maxes, last, free_rel in e.rec:
                vals = c.stats.values
                for name, v in add:
                    vals[name] += v * k
                for name, v in maxes:
                    if v > vals[name]:
                        vals[name] = v
                if last is not None and t + last > vals["last_out_tick"]:
                    vals["last_out_tick"] = t + last
                if t + free_rel > c.free_at:
                    c.free_at = t + free_rel
            e.pending = 0
        self._dirty.clear()
        counts = self._counts
        for rows in self._dirty_rows:
            k = rows.pending
            for key, count in rows.rows:
                counts[key] += count * k
            rows.pending = 0
        self._dirty_rows.clear()

    def sync(self) -> None:
        """Settle the deferred hits, then advance SimPy time (:meth:`OpCache.sync`)."""
        if self._dirty or self._dirty_rows:
            self._settle()
        OpCache.sync(self)

    def _apply(self, entry, t0, op=None, txns=()) -> None:
        """A hit through :meth:`OpCache.run` (ops whose transactions depend on values)."""
        live, rows = self._accounting(op, self.hw.txn_specs(op), txns)
        self._account_live(op, live, rows)
        self._apply_timing(entry, t0)
