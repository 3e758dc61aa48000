"""The exact op memo (layer 5): :class:`OpMemo`, owned by :class:`~hwsim.sim.hardware.Hardware`.

Training issues the same few op structures every mini-batch with fresh data statistics;
a trace replays the same few hundred ops thousands of times.  Simulating each op through
SimPy costs ~10⁻⁴ s.  The memo simulates an op the first time its *structure* meets a
given machine state, records what the simulation did to the timing, and replays that
timing on a hit, while the blocks still account the op's actual values.  Training
(:meth:`Hardware.flush`) and replay (:meth:`Hardware.execute`) use it alike.

When a hit is exact.  An op's timing depends only on

1. its structure: the transactions it expands to (block operation, items, route) and
   their ``structural`` fields (:mod:`hwsim.core.ops`: what the blocks' ``timing()``
   and the actions of blocks with ``STRUCTURAL_ACCOUNTING`` read; not the value
   statistics, not the ``col`` that only selects tiles);
2. the phase of the start tick within the hyperperiod ``T_H`` of the clocks of the
   blocks the op touches — the smallest integer tick count that is a whole number of
   periods of each (edges are ``edge(k) = ⌈k·p⌉`` from tick 0, so
   ``edge(k + T_H/p) = edge(k) + T_H``);
3. ``busy_until − now`` of every touched block still busy when the op starts (a block
   free at or before ``now`` is indistinguishable from one free exactly at ``now``;
   untouched blocks cannot change its timing);
4. an empty event queue — true between ops because every op runs to completion.  The
   previous op's completion events still queued *at the current tick* are processed
   first; if anything remains in the future the op is simulated (``bypassed``).

The key is exactly (1, 2, 3).  A hit applies the elapsed ticks, the per-phase time,
every touched block's ``busy_until`` and timing statistics (integer increments;
``last_out_tick`` shifted; ``peak_*`` by max), calls ``account()`` of the blocks that
read values with the actual op, and re-adds the ledger rows of the structural blocks
(:meth:`ActionLedger.add_rows`).  Rows of one (component, action) are added in op order
either way, so memoised and plain runs give bit-identical reports (tests compare them).
Hits whose increments are all integers are added in bulk at the next :meth:`sync`
(integer sums are exact in any order).

Start clock: when every transaction of an op enters a block of one clock (burst mode),
an op issued at ``now`` does exactly what it would do issued at that clock's next edge
``e``, except that each transaction waits ``e − now`` longer in its first queue and the
op's phase lasts ``e − now`` longer; the memo keys and replays the op from ``e`` and
adds those waits (fewer distinct start phases, fewer misses).

An op whose transactions depend on its values (an accumulate on tiles without an
accumulator: the compares become digital ops) is keyed on those transactions.
"""
from __future__ import annotations

import math

from hwsim.core import ops as schema
from hwsim.core.transaction import Transaction

_MAX_STATS_PREFIX = "peak_"
#: statistics every block keeps that depend on timing alone (hwsim.core.stats)
_TIMING_STATS = frozenset({"transactions", "items", "busy_ticks", "wait_ticks", "last_out_tick"})


def hyperperiod(clocks) -> int:
    """Smallest integer tick count that is a whole number of periods of every clock."""
    h = 1
    for c in clocks:
        h = math.lcm(h, c.period.numerator)    # period a/b reduced: T_H multiple of a
    return h


class _Timing:
    """What one simulated op did, relative to its start tick ``t0``: elapsed ticks, phase,
    per touched block ``(component, integer statistic increments, maxima, last output
    − t0, busy_until − t0)`` and engine ops.  ``deferrable``: every increment is an
    integer and no block stays busy past the op's end, so hits may be added up lazily
    (``pending`` hits, the latest at ``t_last``) until someone reads the statistics."""
    __slots__ = ("dur", "phase", "rec", "ops_done", "deferrable", "pending", "t_last",
                 "adds")

    def __init__(self, dur, phase, rec, ops_done):
        self.dur, self.phase, self.rec, self.ops_done = dur, phase, rec, ops_done
        self.deferrable = all(free_rel <= dur and all(type(v) is int for _k, v in add)
                              for _c, add, _m, _l, free_rel in rec)
        self.pending = self.t_last = 0
        #: the increments flattened, (statistics, name, increment): added in bulk
        self.adds = tuple((c.stats.values, k, v) for c, add, _m, _l, _f in rec for k, v in add)


class _Rows:
    """Ledger increments ``((ActionKey, count), ...)`` of an op structure's blocks with
    STRUCTURAL_ACCOUNTING and their node attribution ``node_rows`` (``((part, key),
    count)``: ops of several layers may share the structure, so the layer is the hit's);
    integer counts are added in bulk (``pending`` hits, ``layers``: hits per layer)."""
    __slots__ = ("rows", "node_rows", "deferrable", "pending", "layers")

    def __init__(self, rows, node_rows=()):
        self.rows, self.node_rows = rows, node_rows
        self.layers: dict = {}
        self.deferrable = all(type(c) is int for _k, c in rows)
        self.pending = 0


def _meta_rule(spec, op) -> tuple:
    """How a transaction's meta derives from its op's (what
    :func:`hwsim.sim.hardware.txn_meta` does, precomputed per op structure):
    ``(scale, extra)`` — ``scale`` None: the op's meta as is (``extra`` None) or just
    ``extra``; else ``{field: factor}`` (the tile's share of the cells for ``cells``
    fields, of the lines for ``lines`` fields; others as they are), then ``extra``."""
    _kind, _n, _route, share, lines, extra = spec
    if share is None:
        return None, extra
    return schema.split_scale(schema.get(op.op), share, lines), extra


class OpMemo:
    """Execute ops on a :class:`~hwsim.sim.hardware.Hardware`, reusing exact timing."""

    def __init__(self, hw, enabled: bool = True, max_entries: int = 200_000):
        self.hw = hw
        self.enabled = enabled
        self.max_entries = max_entries
        self.comps = hw.machine.components
        self.ledger = hw.machine.ledger
        self.period = hyperperiod(hw.machine.clocks.values())
        self._periods: dict = {}
        self.busy: dict = {}          # path → busy_until of blocks busy past now
        self.table: dict = {}         # key → _Timing
        self.hits = self.misses = self.bypassed = 0
        self.lag = 0                  # ticks applied from the memo, not yet run in SimPy
        self._recipes: dict = {}      # op structure → recipe
        self._by_key: dict = {}       # op key → recipe (ops differing only in ``col``)
        self._dirty: list = []        # _Timing entries with deferred hits
        self._dirty_rows: list = []   # _Rows with deferred hits
        self._values = {}             # kind → its value fields (not in the key)
        self._kinds: dict = {}        # op kind → (value fields, valued: see run)
        self.env = hw.sim.env

    # -- running one op -----------------------------------------------------------------
    def _start(self, op):
        """The tick ``op`` starts at, after the previous op's completion events at that
        tick; None when the op was simulated plainly (memo off, or events still in the
        future: see the module doc)."""
        hw = self.hw
        env = self.env
        now = int(env.now) + self.lag
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
        """Execute one op (simulated, or its timing from the memo).  The hot path of
        training and replay: one dict lookup for the op's kind, one for its structure
        (recipe), one for its key."""
        kind = self._kinds.get(op.op)
        if kind is None:
            kind = self._kind(op.op)
        values, valued = kind
        if valued and not self.hw.structural(op):   # transactions depend on its values
            self._run_valued(op)
            return
        now = self._start(op)
        if now is None:
            return
        # the op's structure: everything but its value fields (all of it when the kind
        # has none)
        shape = (op[:5], tuple([kv for kv in op.meta if kv[0] not in values])) \
            if values else op
        recipe = self._recipes.get(shape)
        if recipe is None:
            recipe = self._recipes[shape] = self._recipe(op)
        op_key, paths, period, live, rows, clock, firsts = recipe
        start = clock.edge(clock.edge_index(now)) if clock is not None else now
        busy = self.busy
        key = (op_key, start % period,
               tuple([(p, busy[p] - start) for p in paths if busy.get(p, start) > start])
               if busy else ())
        entry = self.table.get(key)
        if entry is None:
            if start > now:
                self.sync()
                self.hw.sim.env.run(until=start)
            self._miss(key, op, start)
        else:
            self.hits += 1
            if live:
                self._account_live(op.meta, live)
            if rows.deferrable:
                if not rows.pending:
                    self._dirty_rows.append(rows)
                rows.pending += 1
                layers = rows.layers
                layers[op.layer] = layers.get(op.layer, 0) + 1
            else:
                self.ledger.add_rows(rows.rows)
                self.ledger.add_node_rows(op.layer, rows.node_rows)
            self.lag += start - now
            self._apply_timing(entry, start, op)
        if start > now:               # what the op saw of the wait for its first edge
            pt = self.hw.phase_ticks
            pt[op.phase] = pt.get(op.phase, 0) + start - now
            self.hw.add_node_ticks(op, start - now)
            for vals in firsts:
                vals["wait_ticks"] += start - now

    def _kind(self, name: str) -> tuple:
        """(value fields, may its transactions depend on its values) of op kind ``name``
        (an accumulate: :meth:`Hardware.structural`), looked up once per kind."""
        k = schema.get(name)
        kind = self._kinds[name] = (k.values, k.performs == "accumulate")
        return kind

    def _run_valued(self, op) -> None:
        """An op whose transactions depend on its values, keyed on those transactions."""
        now = self._start(op)
        if now is None:
            return
        txns = self.hw.transactions(op)
        op_key = self._key_op(op, txns)
        paths = self._paths(txns)
        key = self._key(op_key, paths, self._period_of(paths), now)
        entry = self.table.get(key)
        if entry is None:
            self._miss(key, op, now)
        else:
            self.hits += 1
            live, rows = self._accounting(op, self.hw.txn_specs(op), txns)
            self._account_live(op.meta, live)
            self.ledger.add_rows(rows.rows)
            self.ledger.add_node_rows(op.layer, rows.node_rows)
            self._apply_timing(entry, now, op)

    # -- keys -------------------------------------------------------------------------
    def _recipe(self, op):
        """(key, touched paths, their hyperperiod, live transactions, structural rows,
        start clock, statistics of the first block of every transaction)."""
        hw = self.hw
        txns = hw.transactions(op)
        op_key = self._key_op(op, txns)
        recipe = self._by_key.get(op_key)
        if recipe is None:
            paths = self._paths(txns)
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
        """The transactions the op expands to, without value fields: timing depends on
        which blocks run how many items of what shape, not on the data (``col`` only
        selects the tiles of a column read, which the routes already say)."""
        values = self._values_of
        return (op.phase,) + tuple(
            (kind, n, route, tuple([(k, v) for k, v in meta.items()
                                    if k not in values(kind) and k != "col"]))
            for kind, n, route, meta in txns)

    def _values_of(self, kind: str) -> frozenset:
        """The value fields of op kind or block operation ``kind`` (left out of keys)."""
        values = self._values.get(kind)
        if values is None:
            values = self._values[kind] = schema.get(kind).values
        return values

    @staticmethod
    def _paths(txns) -> tuple:
        return tuple(sorted({p for _k, _n, route, _m in txns for p in route}))

    def _key(self, op_key, paths, period, start) -> tuple:
        """The memo key of an op starting at ``start`` (the module doc's 1, 2, 3)."""
        busy = self.busy
        state = tuple((p, busy[p] - start) for p in paths if busy.get(p, start) > start) \
            if busy else ()
        return (op_key, start % period, state)

    def _period_of(self, paths) -> int:
        """Hyperperiod of the clocks of the blocks an op touches (see the module doc)."""
        period = self._periods.get(paths)
        if period is None:
            period = self._periods[paths] = hyperperiod({self.comps[p].clock for p in paths})
        return period

    # -- a miss: simulate and remember --------------------------------------------------
    def _miss(self, key, op, start):
        self.misses += 1
        entry = self._simulate(op, start)
        if len(self.table) < self.max_entries:
            self.table[key] = entry
        return entry

    def _simulate(self, op, t0):
        hw = self.hw
        self.sync()
        touched = [(p, self.comps[p]) for p in self._paths(hw.transactions(op))]
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
            rec.append((c, tuple(add), tuple(maxes), last, c.busy_until - t0))
        self._refresh_busy(dict(touched))
        return _Timing(t1 - t0, op.phase, tuple(rec), hw.sim.ops_done - ops_done)

    # -- a hit: account the values, apply the timing ------------------------------------
    def _accounting(self, op, specs, txns):
        """``live``: per transaction whose blocks must see the actual op (value fields),
        a reusable transaction (layer, phase, route and n are the structure's), how its
        meta derives from the op's (:func:`_meta_rule`) and those blocks; ``rows``: the
        ledger increments of the blocks with STRUCTURAL_ACCOUNTING, the same on every
        hit of this structure."""
        ledger, live, rows, node_rows = self.ledger, [], [], []
        for spec, (kind, n, route, meta) in zip(specs, txns):
            blocks = []
            part = schema.part_of(kind)
            for path in route:
                c = self.comps[path]
                if not c.STRUCTURAL_ACCOUNTING:
                    blocks.append(c.account)
                    continue
                txn = Transaction(op=kind, n=n, route=route, layer=op.layer, phase=op.phase,
                                  meta=meta, item=0, n_total=n)
                new = [(ledger.key(path, c.KIND, action, op.phase, attrs), count)
                       for action, count, attrs in c.actions(txn) if count]
                rows.extend(new)
                node_rows.extend(((part, k), count) for k, count in new)
            if blocks:
                txn = Transaction(op=kind, n=n, route=route, layer=op.layer, phase=op.phase,
                                  meta={}, item=0, n_total=n)
                live.append((txn, *_meta_rule(spec, op), tuple(blocks)))
        return tuple(live), _Rows(tuple(rows), tuple(node_rows))

    @staticmethod
    def _account_live(meta, live, scale_meta=schema.scale_meta) -> None:
        """A hit's value accounting: the live blocks see the op's values (``meta``, the
        op's sorted pairs), split to each transaction by its rule."""
        for txn, scale, extra, blocks in live:
            if scale is None:                    # the op's meta as is, or just extra
                tm = dict(extra if extra is not None else meta)
            else:
                tm = scale_meta(meta, scale)
                if extra is not None:
                    tm.update(extra)
            txn.meta = tm
            for account in blocks:
                account(txn)

    def _apply_timing(self, entry, t0, op) -> None:
        hw = self.hw
        dur = entry.dur
        self.lag += dur
        hw.phase_ticks[entry.phase] = hw.phase_ticks.get(entry.phase, 0) + dur
        hw.add_node_ticks(op, dur)
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
                c.hold_until(t0 + free_rel)
                busy[c.path] = t0 + free_rel
        if busy:
            now = t0 + dur
            for p in [p for p, f in busy.items() if f <= now]:
                del busy[p]

    def _settle(self) -> None:
        """Add what deferred hits did to the statistics (integer increments × hits;
        maxima and the last output / busy tick of each entry's latest hit) and the
        structural ledger rows (integer counts × hits)."""
        for e in self._dirty:
            k, t = e.pending, e.t_last
            for vals, name, v in e.adds:      # (the maxima and ticks are other keys)
                vals[name] += v * k
            for c, _add, maxes, last, free_rel in e.rec:
                vals = c.stats.values
                for name, v in maxes:
                    if v > vals[name]:
                        vals[name] = v
                if last is not None and t + last > vals["last_out_tick"]:
                    vals["last_out_tick"] = t + last
                if t + free_rel > c.busy_until:
                    c.hold_until(t + free_rel)
            e.pending = 0
        self._dirty.clear()
        for rows in self._dirty_rows:
            self.ledger.add_rows(rows.rows, rows.pending)
            for layer, k in rows.layers.items():
                self.ledger.add_node_rows(layer, rows.node_rows, k)
            rows.pending = 0
            rows.layers.clear()
        self._dirty_rows.clear()

    def sync(self) -> None:
        """Settle the deferred hits and advance SimPy time over the ops applied from the
        memo (call before reading statistics or ``hw.now``)."""
        if self._dirty or self._dirty_rows:
            self._settle()
        if self.lag:
            env = self.hw.sim.env
            env.run(until=env.now + self.lag)
            self.lag = 0

    def _refresh_busy(self, comps) -> None:
        now = self.hw.sim.now + self.lag
        for p, c in comps.items():
            if c.busy_until > now:
                self.busy[p] = c.busy_until
        for p in [p for p, f in self.busy.items() if f <= now]:
            del self.busy[p]

    def stats(self) -> dict:
        return {"enabled": self.enabled, "hits": self.hits, "misses": self.misses,
                "bypassed": self.bypassed, "entries": len(self.table),
                "hyperperiod_ticks": self.period}
