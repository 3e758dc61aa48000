"""The operations API (layer 5) that training algorithms and trace replay drive.

:class:`Hardware` wraps a built :class:`~hwsim.elaborate.graph.Machine` and a layer
:class:`~hwsim.elaborate.mapping.Mapping`.  Every call (``forward``, ``backward``,
``update``, ``read_column``, ``accumulate``, ``flip``, ``digital``, ``transfer``)
appends one :class:`~hwsim.sim.program.Op` to the pending program;
:meth:`Hardware.flush` executes the pending ops on the SimPy engine, so latency and
actions come from the components, in cycles.

Execution of one op on a layer mapped on a ``g_r × g_c`` tile grid: every tile of
the layer's array runs its share at once (lines = the rows/columns mapped on that
tile; the op's ``n`` and fields split by the rules of the op schema,
:mod:`hwsim.core.ops`; a tile with no share of a flip takes no part); the op ends
when the slowest tile ends.  Forward MVMs over ``g_c > 1`` column blocks add
``n·(g_c − 1)·M`` partial sums on the digital unit (transposed: ``n·(g_r − 1)·N``),
each a 16-bit word moved over the interconnect (``transfer`` after the buffer).
``move`` ops are placed by :func:`move_specs`.
Schedule ``sequential``: an op starts when the previous one ended.  With ``cache`` the
ops go through the exact op memo (:class:`hwsim.sim.memo.OpMemo`) that the Hardware owns;
training (:meth:`Hardware.flush`) and trace replay (:meth:`Hardware.execute`) share it.
"""
from __future__ import annotations

from hwsim.core import ops as schema
from hwsim.elaborate.graph import Machine
from hwsim.elaborate.mapping import Mapping
from hwsim.errors import SimulationError
from hwsim.sim.engine import Simulator
from hwsim.sim.memo import OpMemo
from hwsim.sim.program import Op, Program


def txn_meta(spec, op: Op) -> dict:
    """Meta of the transaction ``spec`` of ``op``.

    A tile's transaction carries the tile's share of the op's fields (split by their
    schema rules, :func:`hwsim.core.ops.split_meta`: ``share`` of the cells, ``lines``
    for writes) plus ``extra`` (its line counts); ``share`` None: the op's meta as is
    (digital, transfer) or, with ``extra``, just ``extra`` (digital work of a tile op)."""
    _kind, _n, _route, share, lines, extra = spec
    if share is None:
        return dict(extra) if extra is not None else dict(op.meta)
    tm = schema.split_meta(schema.get(op.op), op.meta, share, lines)
    if extra is not None:
        tm.update(extra)
    return tm


#: bytes of one partial sum moved between the tiles of a split layer (16-bit words)
PSUM_BYTES = 2


def move_specs(machine: Machine, op: Op) -> list:
    """Placement of a ``move`` op (a tensor of the training step stored or re-read).

    Policy: the step's live tensors are laid out in the buffer in the order the network
    walk gives them (``offset`` = bytes placed before this one); a tensor of ``extent``
    bytes keeps ``e_on = clip(capacity − offset, 0, extent)`` bytes in the buffer and
    spills the rest to DRAM.  An access of ``n`` bytes to it moves
    ``on = floor(n · e_on / extent)`` bytes through the buffer and interconnect (the
    ``transfer`` route, in chunks of at most the capacity, which queue on the buffer's
    port) and ``n − on`` on the ``dram`` route.  Stateless: it depends on the op and the
    machine only, so the op memo and a replay see the same split.

    **Line buffer.**  A conv layer's patch read carries ``window`` (the bytes of
    ``k_h − 1`` rows of its input map) and ``unique`` (the bytes of the input map).  On a
    machine with a line buffer (route ``line``) of at least ``window`` bytes, only the
    ``unique`` bytes are read from the buffer/DRAM as above; they are written once into
    the line buffer, and the ``n`` patch bytes (``k_h·k_w`` re-reads per output pixel) are
    read from it.  Otherwise (no line buffer, or the window does not fit) all ``n``
    bytes come from the buffer/DRAM."""
    meta = op.meta_dict()
    access, n = meta["access"], op.n
    offset, extent = int(meta.get("offset", 0)), int(meta.get("extent", n))
    window, unique = int(meta.get("window", 0)), int(meta.get("unique", 0))
    line = []
    if window > 0 and access == "read" and "line" in machine.routes:
        route = machine.routes["line"]
        if window <= machine.components[route[0]].params.capacity:
            line = [("line", unique, route, None, None, {"bytes": unique, "access": "write"}),
                    ("line", n, route, None, None, {"bytes": n, "access": "read"})]
            n = unique
    buf = machine.components[machine.routes["transfer"][0]]
    cap = int(buf.params.capacity)
    e_on = min(extent, max(0, cap - offset)) if extent > 0 else 0
    on = n * e_on // extent if extent > 0 else n
    specs = []
    for start in range(0, on, cap):
        chunk = min(cap, on - start)
        specs.append(("transfer", chunk, machine.routes["transfer"], None, None,
                      {"bytes": chunk, "access": access}))
    if n - on > 0:
        if "dram" not in machine.routes:
            raise SimulationError(f"'move' of {n - on} B ({meta.get('what', 'data')}, layer "
                                  f"'{op.layer}') does not fit in the buffer "
                                  f"({cap} B) and the accelerator has no DRAM")
        specs.append(("dram", n - on, machine.routes["dram"], None, None,
                      {"bytes": n - on, "access": access}))
    return specs + line


def _array_op(kind: str, role: str, phase: str):
    """The shorthand ``Hardware.<kind>(layer, n, role, phase, **fields)`` of
    :meth:`Hardware.op` for an op on a layer's array (``n``: the kind's items, as
    :mod:`hwsim.core.ops` declares them: vectors, pulse slots, row steps, ...)."""
    def issue(self, layer, n, role=role, phase=phase, **fields):
        self._op(kind, n, layer, role, phase, **fields)
    issue.__name__, issue.__qualname__ = kind, f"Hardware.{kind}"
    issue.__doc__ = (f"Issue a ``{kind}`` op of ``n`` items ({schema.get(kind).items}) on "
                     f"``layer`` (default role {role}, phase {phase}).")
    return issue


class Hardware:
    """Issue hardware operations; execute them cycle-accurately on demand."""

    txn_meta = staticmethod(txn_meta)

    def __init__(self, machine: Machine, mapping: Mapping | None = None, *,
                 granularity: str | None = None, timeline: bool = False, recorder=None,
                 start_tick: int = 0, cache: bool = False):
        self.machine = machine
        self.mapping = mapping
        eng = machine.config.engine
        self.sim = Simulator(machine.components, machine.adjacency,
                             granularity=granularity or eng.granularity, ledger=machine.ledger,
                             timeline=timeline, start_tick=start_tick)
        self.pending = Program()
        self.recorder = recorder          # object with .record(op) (trace writer), optional
        self.phase_ticks: dict = {}
        #: (layer, part) → ticks its ops took (sequential: they sum to the run's time;
        #: pipelined: each op's span from start to end, which overlap)
        self.node_ticks: dict = {}
        self.ops_executed = 0
        self.samples = 0
        self.schedule = eng.schedule
        if self.schedule == "pipelined" and self.sim.granularity != "burst":
            raise SimulationError("the pipelined schedule needs engine.granularity: burst "
                                  "(item mode is the sequential reference)")
        #: the exact op memo (None: every op is simulated); off with the pipelined
        #: schedule, whose ops overlap
        self.cache = OpMemo(self) if cache and self.schedule == "sequential" else None

    # -- the operations API ---------------------------------------------------------
    def issue(self, op: Op) -> None:
        self.pending.append(op)
        if self.recorder is not None:
            self.recorder.record(op)

    def op(self, op_kind, n, layer="", role="W", phase="forward", **meta):
        """Issue an op of any declared kind (the named methods below are shorthands)."""
        if n <= 0:
            return
        self.issue(Op(op_kind, int(n), layer, role, phase,
                      tuple(sorted(meta.items())) if meta else ()))

    _op = op                          # the shorthands below call it under this name

    # the array ops: ``hw.<kind>(layer, n, role, phase, **fields)``, n as the schema counts
    forward = _array_op("forward", "W", "forward")
    backward = _array_op("backward", "W", "backward")
    read_column = _array_op("read_column", "A", "transfer")
    update = _array_op("update", "W", "update")
    serial_write = _array_op("serial_write", "W", "update")
    accumulate = _array_op("accumulate", "H", "transfer")
    flip = _array_op("flip", "A", "transfer")

    def digital(self, kind, n, layer="", phase="digital"):
        self._op("digital", n, layer, "-", phase, kind=kind)

    def transfer(self, nbytes, layer="", phase="transfer"):
        self._op("transfer", nbytes, layer, "-", phase)

    def end_step(self, samples: int) -> None:
        """Mark the end of one mini-batch of ``samples`` samples."""
        self.pending.mark_step(samples)
        if self.recorder is not None and hasattr(self.recorder, "end_step"):
            self.recorder.end_step(samples)

    # -- execution ----------------------------------------------------------------------
    def flush(self) -> int:
        """Execute every pending op in order; return the elapsed ticks."""
        t0 = self.now
        ops = list(self.pending.ops)
        self.samples += self.pending.samples
        self.pending.clear()
        if self.cache is None:
            self._execute(ops)
        else:
            for op in ops:
                self.cache.run(op)
        return self.now - t0

    def execute(self, op: Op) -> None:
        """Run one op now, through the memo when there is one (trace replay; pending ops
        stay pending)."""
        if self.cache is None:
            self._execute([op])
        else:
            self.cache.run(op)

    def memo_stats(self) -> dict:
        """Hits, misses and size of the op memo (zeros without one)."""
        if self.cache is None:
            return {"enabled": False, "hits": 0, "misses": 0, "bypassed": 0, "entries": 0,
                    "hyperperiod_ticks": 0}
        return self.cache.stats()

    def _execute(self, ops) -> None:
        """Run ops through the SimPy engine in the configured schedule."""
        if self.schedule == "pipelined":
            self._execute_pipelined(ops)
            return
        for op in ops:
            start = self.sim.now
            handles = [self.sim.submit(o, n, route, layer=op.layer, phase=op.phase, meta=m)
                       for o, n, route, m in self.transactions(op)]
            for h in handles:
                self.sim.env.run(until=h.done)
            self.phase_ticks[op.phase] = self.phase_ticks.get(op.phase, 0) + self.sim.now - start
            self.add_node_ticks(op, self.sim.now - start)
            self.ops_executed += 1

    def _execute_pipelined(self, ops) -> None:
        """Layer-pipelined schedule: every op consumes the output stream of the op before
        it — its first item enters when the previous op's first item is out, its last
        no earlier than the previous op's last (uniform-stream dataflow between the
        layers of a mini-batch).  Blocks used by both ops serialise through their
        queues (``free_at``), so an array read after its update still waits for it."""
        env = self.sim.env
        first = last = self.sim.now
        pending = []
        for op in ops:
            start = max(first, self.sim.now)
            handles = [self.sim.submit(o, n, route, layer=op.layer, phase=op.phase, meta=m,
                                       at=start, last=max(last, start))
                       for o, n, route, m in self.transactions(op)]
            for h in handles:
                env.run(until=h.streaming)
            first = min(h.t_first_out for h in handles)
            last = max(h.t_end for h in handles)
            self.add_node_ticks(op, last - start)
            pending.append((op, start, handles))
            self.ops_executed += 1
        for op, start, handles in pending:
            for h in handles:
                if not h.done.processed:
                    env.run(until=h.done)
        # per-phase time: the span during which ops of the phase were in flight
        spans: dict = {}
        for op, start, handles in pending:
            end = max(h.t_end for h in handles)
            lo, hi = spans.get(op.phase, (start, end))
            spans[op.phase] = (min(lo, start), max(hi, end))
        for phase, (lo, hi) in spans.items():
            self.phase_ticks[phase] = self.phase_ticks.get(phase, 0) + hi - lo

    def add_node_ticks(self, op, ticks: int) -> None:
        """Add ``ticks`` to the time of ``op``'s node and part (the per-node report)."""
        key = (op.layer, schema.part_of(op.op))
        self.node_ticks[key] = self.node_ticks.get(key, 0) + ticks

    def run_program(self, ops) -> int:
        """Execute ``ops`` now (not through the memo); return the elapsed ticks."""
        t0 = self.sim.now
        self._execute(list(ops))
        return self.sim.now - t0

    def transactions(self, op: Op) -> list:
        """The (block operation, n, route, meta) transactions of one op."""
        return [(spec[0], spec[1], spec[2], txn_meta(spec, op)) for spec in self.txn_specs(op)]

    def txn_specs(self, op: Op) -> list:
        """The transactions of ``op`` as specs ``(kind, n, route, share, lines, extra)``
        (see :func:`txn_meta`); they depend on the op's structure, except for the compare
        count of an ``accumulate`` on tiles without an accumulator (:meth:`structural`)."""
        m = self.machine
        k = schema.get(op.op)
        kind = k.performs                 # the block operation
        digital = m.routes["digital"]     # routes: hwsim.elaborate.routes, from the connections
        if kind == "digital":
            return [("digital", op.n, digital, None, None, None)]
        if kind == "transfer":
            return [("transfer", op.n, m.routes["transfer"], None, None, None)]
        if kind == "move":
            return move_specs(m, op)
        if self.mapping is None:
            raise SimulationError(f"op '{kind}' on layer '{op.layer}' needs a layer mapping")
        lm = self.mapping[op.layer]
        slots = lm.tiles(op.role if op.role in lm.arrays else next(iter(lm.arrays)))
        col = int(op.meta_dict().get("col", 0)) if kind == "read_column" else 0
        span = kind == "read_column" and bool(op.meta_dict().get("span", 0))
        if kind == "read_column" and not span:      # span: every tile reads its own columns
            slots = tuple(s for s in slots if s.col0 <= col < s.col0 + s.cols) or slots[:1]
        cells = sum(s.rows * s.cols for s in slots)
        counts = schema.split_n(k, op.n, slots, lm.in_features, op.meta, lm.out_features)
        specs = []
        for s, n in zip(slots, counts):
            if n <= 0:                # this tile has no share of the op's items
                continue
            g = m.tiles[s.tile]
            share = (s.rows * s.cols) / cells
            if kind in ("forward", "read_column"):
                specs.append((kind, n, g.route(kind), share, None,
                              {"lines_in": s.cols, "lines_out": s.rows}))
            elif kind == "backward":
                specs.append((kind, n, g.route(kind), share, None,
                              {"lines_in": s.rows, "lines_out": s.cols}))
            elif kind in ("update", "serial_write"):
                lines = (s.rows + s.cols) / (lm.out_features + lm.in_features)
                specs.append((kind, n, g.route(kind), share, lines, None))
            elif kind == "accumulate":
                if g.route(kind) is None:   # no tile accumulator: the digital unit adds, compares
                    specs.append(("digital", n, digital, None, None, {"kind": "add"}))
                    cmp_ = round(schema.value(op.op, op.meta_dict(), "compares", op.n) * share)
                    if cmp_ > 0:
                        specs.append(("digital", cmp_, digital, None, None,
                                      {"kind": "compare"}))
                else:
                    specs.append((kind, n, g.route(kind), share, None, None))
            elif kind == "flip":
                if g.route(kind) is None:
                    raise SimulationError(f"op 'flip' on layer '{op.layer}': the tiles have no "
                                          f"chopper (add tile.periphery.chopper)")
                specs.append((kind, n, g.route(kind), share, None, None))
            else:
                raise SimulationError(f"unknown op kind '{kind}'")
        if kind == "read_column" and op.meta_dict().get("minus") is not None:
            specs += self._reference_specs(op, lm, None if span else col)
        adds = (lm.partial_sum_adds_per_vector if kind == "forward" and lm.grid[1] > 1 else
                lm.partial_sum_adds_per_vector_t if kind == "backward" and lm.grid[0] > 1
                else 0)
        if adds:
            specs.append(("digital", op.n * adds, digital, None, None, {"kind": "partial_sum"}))
            # the partial sums travel from their tiles to the digital unit over the
            # interconnect (the transfer route after the buffer): one 16-bit word each
            nbytes = PSUM_BYTES * op.n * adds
            specs.append(("transfer", nbytes, m.routes["transfer"][1:], None, None,
                          {"bytes": nbytes}))
        return specs

    def _reference_specs(self, op: Op, lm, col: int) -> list:
        """A differential read ``(A − R) e_k`` (field ``minus``: R's role) is one read of
        the pair: R's tiles holding ``col`` integrate at the same time as A's (DAC →
        tile; their currents are subtracted on the shared output lines), and only A's
        ADCs convert the difference — R takes part in the op, not in a second one."""
        role = op.meta_dict()["minus"]
        if role not in lm.arrays:
            raise SimulationError(f"op 'read_column' on layer '{op.layer}': the reference "
                                  f"array '{role}' is not mapped (roles: "
                                  f"{', '.join(lm.arrays)})")
        slots = lm.tiles(role)
        if col is not None:                         # (None: a span read, all R's tiles)
            slots = tuple(s for s in slots if s.col0 <= col < s.col0 + s.cols) or slots[:1]
        specs = []
        for s in slots:
            g = self.machine.tiles[s.tile]
            route = g.route("read_column")
            specs.append(("read_column", op.n, route[:route.index(g.path) + 1], 0.0, None,
                          {"lines_in": s.cols, "lines_out": s.rows}))
        return specs

    def structural(self, op: Op) -> bool:
        """True when :meth:`txn_specs` depends on the op's structure only (everything but
        the compare count of an accumulate on tiles without an accumulator)."""
        if schema.get(op.op).performs != "accumulate" or self.mapping is None:
            return True
        lm = self.mapping[op.layer]
        slots = lm.tiles(op.role if op.role in lm.arrays else next(iter(lm.arrays)))
        return all(self.machine.tiles[s.tile].route("accumulate") is not None
                   for s in slots)

    @property
    def now(self) -> int:
        """Current tick, including time applied from the op memo."""
        return self.sim.now + (self.cache.lag if self.cache is not None else 0)

    def sync(self) -> None:
        """Bring the SimPy clock up to :attr:`now` (after cached ops)."""
        if self.cache is not None:
            self.cache.sync()
