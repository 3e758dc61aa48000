"""Wide blocks: components that process several items per clock cycle (layer 3).

The stage formula of :mod:`hwsim.core.transaction` moves at most one item per
initiation interval (II ≥ 1 cycle).  A digital accumulator with 64 lanes, a buffer
moving 64 B/cycle or a chopper flipping all its lines at once processes *many* items
per cycle: an operation of ``U`` units of work (elements, bytes, lines) at ``w`` units
per cycle occupies the block for ``C = ceil(U / w)`` cycles.

Model.  An operation has ``n`` items of ``U/n`` units each (an exact fraction, e.g.
``n`` vectors of ``bytes/n`` bytes); its units stream through the block ``w`` per
cycle, cycles numbered from the operation's first.  Item ``k`` occupies cycles
``first_cycle(k) = floor(k·U/(n·w))`` to ``e(k) = ceil((k+1)·U/(n·w)) − 1`` and leaves
``L`` cycles after cycle ``e(k)``.  Cycle ``c`` can run once the item holding its last
unit, ``closing_item(c)``, has arrived, and one cycle after the previous one.

Burst mode (one transaction for the operation, first item at ``t_first``, last at
``t_last``), with ``j0 = closing_item(e(0))``::

    k_lo  = edge_index(max(t_arrive(closing_item(0)), free_at))    # first cycle
    k_f   = max(edge_index(max(t_arrive(j0), free_at)), k_lo + e(0))
    m     = e(n−1) − first_cycle(j_l) + 1      # cycles needing the last arrivals
    k_end = max(edge_index(max(t_last, free_at)) + m − 1,  k_f + e(n−1) − e(0))
    t_out(k) = edge(k_f + e(k) − e(0) + L),  t_out_last = edge(k_end + L)
    free_at' = edge(k_end + 1)

where ``t_arrive(j)`` and ``j_l`` (the first item arriving together with the last) come
from the output pattern a wide previous stage leaves on the transaction, or from
uniform spacing after a one-item-per-II stage.  Fed all at once (``n`` items at t0)
this is ``L + C − 1`` cycles to the last item; with ``U = n`` and ``w = 1`` it is the
base-class formula with ``II = 1``.

Item (fine) mode runs the same cycles one arrival at a time: when item ``b−1`` arrives,
the cycles before ``first_cycle(b)`` (all of them for the last item) run, and the items
they complete leave; the others are held.  This is the reference.  The two modes agree
to the tick (tested, with a hypothesis property) when items do not straddle cycle
boundaries (item size and width divide one another) and no wide stage is faster than
both its neighbours; such a starved stage emits an irregular stream that the first/last
summary of a burst cannot carry (burst mode is then optimistic, by up to the starved
group's cycles: use item mode for such routes).

Subclasses implement :meth:`work` ``-> (U, w)`` and :meth:`timing` ``-> (L, 1)``.
"""
from __future__ import annotations

from fractions import Fraction

from hwsim.core import Component, StatSpec
from hwsim.core.ops import field
from hwsim.errors import SimulationError


def as_rate(value) -> Fraction:
    """Units per cycle as an exact fraction (``64.0`` B/cycle -> ``64``)."""
    rate = Fraction(value).limit_denominator(10**6)
    if rate <= 0:
        raise SimulationError(f"a throughput must be > 0 units/cycle, got {value}")
    return rate


def last_cycle(k: int, units: int, n: int, rate: Fraction) -> int:
    """``e(k)``: 0-based cycle in which item ``k`` of ``n`` has its last unit processed."""
    if k < 0:
        return -1
    num = (k + 1) * units * rate.denominator
    den = n * rate.numerator
    return max(0, -(-num // den) - 1)


def first_cycle(k: int, units: int, n: int, rate: Fraction) -> int:
    """0-based cycle in which item ``k`` has its first unit processed."""
    num = k * units * rate.denominator
    return min(num // (n * rate.numerator), last_cycle(k, units, n, rate))


def closing_item(c: int, units: int, n: int, rate: Fraction) -> int:
    """Item holding the last unit of cycle ``c``: the cycle can run once it has arrived."""
    if units == 0:
        return n - 1
    num = (c + 1) * n * rate.numerator
    den = units * rate.denominator
    return min(n - 1, -(-num // den) - 1)


def last_item_in(c: int, units: int, n: int, rate: Fraction) -> int:
    """Largest item ``j`` with ``e(j) <= c`` (``n - 1`` when there is no work)."""
    if units == 0:
        return n - 1
    j = ((c + 1) * n * rate.numerator) // (units * rate.denominator) - 1
    return min(n - 1, j)


def payload_bytes(path: str, txn) -> int:
    """Bytes an operation moves: meta ``bytes`` if given, else ``n`` (one byte per item)."""
    nbytes = field(txn, "bytes")
    if int(nbytes) != nbytes or nbytes < 0:
        raise SimulationError(f"{path}: '{txn.op}' needs a whole number of bytes >= 0, "
                              f"got bytes={nbytes!r}")
    return int(nbytes)


class _LaneOut:
    """Output pattern of one group of a wide block: when item ``j`` leaves it."""

    __slots__ = ("hop", "clock", "units", "n", "rate", "k_f", "e_a", "e_last", "latency",
                 "t_last_out")

    def __init__(self, hop, clock, units, n, rate, k_f, e_a, e_last, latency, t_last_out):
        self.hop, self.clock, self.units, self.n, self.rate = hop, clock, units, n, rate
        self.k_f, self.e_a, self.e_last = k_f, e_a, e_last
        self.latency, self.t_last_out = latency, t_last_out

    def first_of_last_group(self) -> int:
        """First item that leaves together with the last one."""
        if self.e_last == 0:
            return 0
        return last_item_in(self.e_last - 1, self.units, self.n, self.rate) + 1

    def time(self, j: int) -> int:
        e = last_cycle(j, self.units, self.n, self.rate)
        if e >= self.e_last:
            return self.t_last_out
        return self.clock.edge(self.k_f + max(0, e - self.e_a) + self.latency)


class _Pending:
    """Items of one operation held until the item that closes their cycle arrives."""

    __slots__ = ("held", "done")

    def __init__(self):
        self.held = []      # transactions waiting for their cycle to close
        self.done = -1      # e() of the last item already scheduled


class LanedComponent(Component):
    """Base of blocks with a throughput of ``w`` units per cycle (see module docstring)."""

    def work(self, txn) -> tuple[int, Fraction]:
        """``(U, w)``: units of work of the whole operation and units per cycle."""
        raise NotImplementedError

    def bind(self, env, router) -> None:
        self._pending: dict[int, _Pending] = {}
        super().bind(env, router)

    def _run(self):
        env = self.env
        s = self.stats.values
        while True:
            txn = yield self.queue.get()
            latency, ii = self.timing(txn)
            if ii != 1:
                raise SimulationError(f"{self.path}: a laned block issues one beat per cycle "
                                      f"(II = 1), got II = {ii}")
            if txn.item == 0:
                self.account(txn)
            s["transactions"] += 1
            s["items"] += txn.n
            units, rate = self.work(txn)
            n = txn.n_total
            b = txn.item + txn.n                         # items [item, b) of the operation
            pend = self._pending.get(txn.op_id)
            if pend is None:
                pend = self._pending[txn.op_id] = _Pending()
            pend.held.append(txn)
            # cycles whose every unit has arrived: all before the one item b starts in
            c_hi = last_cycle(n - 1, units, n, rate) if b >= n else \
                first_cycle(b, units, n, rate) - 1
            if c_hi <= pend.done:
                continue                                  # nothing new can run yet
            c_lo = pend.done + 1
            known = pend.held
            done = [t for t in known if last_cycle(t.item + t.n - 1, units, n, rate) <= c_hi]
            pend.held = [t for t in known if t not in done]
            first = known[0]
            g_a = first.item
            e_a = min(last_cycle(g_a, units, n, rate), c_hi)
            clock = self.clock
            free0 = self.free_at
            # the group's first cycle runs once its closing item is in; the cycle that
            # releases the group's first item, once that cycle's closing item is in
            t_lo = self._arrival(txn, known, closing_item(c_lo, units, n, rate), b)
            k_lo = clock.edge_index(max(t_lo, free0))
            t_a = self._arrival(txn, known, closing_item(e_a, units, n, rate), b)
            k_f = max(clock.edge_index(max(t_a, free0)), k_lo + e_a - c_lo)
            # cycles that need the items arriving together with the last one
            j_l = max(g_a, self._first_with_last(txn, b))
            m_last = max(1, min(c_hi - first_cycle(j_l, units, n, rate) + 1, c_hi - pend.done))
            k_end = max(clock.edge_index(max(txn.t_last, free0)) + m_last - 1,
                        k_f + c_hi - e_a)
            t_start = clock.edge(k_lo)
            t_last_out = clock.edge(k_end + latency)
            free = clock.edge(k_end + 1)
            s["busy_ticks"] += free - t_start
            s["wait_ticks"] += max(0, t_start - max(env.now, first.t_first))
            s["last_out_tick"] = max(s["last_out_tick"], t_last_out)
            self.free_at = free
            pend.done = c_hi
            if b >= n:
                del self._pending[txn.op_id]
            if self.timeline is not None:
                self.timeline.append((t_start, free, txn.op, txn.layer, txn.phase))
            out = _LaneOut(txn.hop, clock, units, n, rate, k_f, e_a, c_hi, latency, t_last_out)
            for t in done:
                t._lane_out = out
                self.router.forward(t, out.time(t.item), t_last_out)

    @staticmethod
    def _first_with_last(txn, b: int) -> int:
        """First item that arrives at the same tick as item ``b-1``."""
        up = getattr(txn, "_lane_out", None)
        if up is not None and up.hop == txn.hop - 1:
            return min(b - 1, up.first_of_last_group())
        return b - 1

    @staticmethod
    def _arrival(txn, group, j: int, b: int) -> int:
        """Arrival tick of item ``j`` (``< b``): exact for the group's single-item
        transactions (item mode); inside a burst, exact when the previous stage is a
        wide block (it leaves its output pattern on the transaction), else uniform
        spacing between the burst's first and last arrival (a one-item-per-II stage)."""
        for t in group:
            if t.item <= j < t.item + t.n and (t.n == 1 or j == t.item):
                return t.t_first
        if j >= b - 1:
            return txn.t_last
        up = getattr(txn, "_lane_out", None)
        if up is not None and up.hop == txn.hop - 1:
            return up.time(j)
        span = txn.t_last - txn.t_first
        return txn.t_first + -(-(j - txn.item) * span // (b - 1 - txn.item))


class ByteStore(LanedComponent):
    """A laned block that only reads or writes bytes (DRAM, the line buffer): its one op
    ``OP`` carries ``access`` read|write; it records ``read_bit``/``write_bit`` × 8·bytes
    (attr ``technology``) and counts ``bytes_read``/``bytes_written``.  Subclasses set
    ``KIND``, ``Params``, ``PORTS``, ``ACTIONS``, ``OP``, timing and work."""
    OP = ""
    STRUCTURAL_ACCOUNTING = True      # bits = 8 × bytes
    STATS = (StatSpec("bytes_read", "B", "bytes read"),
             StatSpec("bytes_written", "B", "bytes written"))

    def access(self, txn) -> str:
        if txn.op != self.OP:
            raise SimulationError(f"{self.path}: {self.KIND} cannot perform '{txn.op}' "
                                  f"(ops: {self.OP})")
        acc = field(txn, "access", "read")
        if acc not in ("read", "write"):
            raise SimulationError(f"{self.path}: {self.OP} access must be 'read' or "
                                  f"'write', got {acc!r}")
        return acc

    def actions(self, txn):
        action = "read_bit" if self.access(txn) == "read" else "write_bit"
        yield action, 8 * payload_bytes(self.path, txn), {"technology": self.params.technology}

    def on_operation(self, txn) -> None:
        self.stats.add("bytes_read" if self.access(txn) == "read" else "bytes_written",
                       payload_bytes(self.path, txn))
