"""The op schema (layer 2): every op kind, its fields, their units, which of them the
memo keys on, and how each splits over the tiles of a layer mapped on several tiles.

This is the one declaration of an op.  :class:`hwsim.sim.program.Program` validates
every op it is given against it (an unknown field is an error, never 0 J), the trace
format lists its statistics from it, the memo of :mod:`hwsim.sim.memo` keys an op on its
``structural`` fields, :class:`hwsim.sim.hardware.Hardware` splits an op over the tiles
of its layer by the fields' ``split`` rules, and the blocks read a transaction's fields
through :func:`field` (a missing optional field has its declared default; a name that
is not declared is an error).  The schema lives in the core (layer 2), below the blocks
that read it.  Adding an op kind is one :func:`declare` call; a kind that ``performs``
an existing block operation (routes, timing, actions) needs nothing else.

Split rules — a layer of ``M × N`` weights on tiles; tile ``s`` holds ``s.rows × s.cols``:

==============  ===================================================================
``replicated``  every tile of the op gets the value as is (vector counts, max_pulses)
``cells``       scaled by the tile's share of the layer's cells, ``s.rows·s.cols / ΣΣ``
                (value statistics summed over devices); an ``n`` split by cells is
                rounded, at least 1
``lines``       scaled by the tile's share of the lines, ``(s.rows + s.cols)/(M + N)``
                (update and serial write only)
``cols``        ``n`` of the layer's input (column) lines — output (row) lines with
                ``side: out`` — counted from ``col`` on when given, else apportioned
                over the line blocks by their share (largest remainder, integers
                summing to ``n``); every tile of a block gets the block's count;
                tiles with none take no part
``tile_rows``   set per tile by the hardware (not issued): the tile's rows
``tile_cols``   set per tile by the hardware (not issued): the tile's columns
``select``      selects the tiles (``col``: those holding that column; ``span``: all), then
                replicated
==============  ===================================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field as _dc_field
from operator import itemgetter
from typing import NamedTuple

from hwsim.errors import SimulationError

REPLICATED, CELLS, LINES, COLS = "replicated", "cells", "lines", "cols"
#: which part of the machine an op's work is, in the per-node report (``OpKind.part``)
ANALOG, DIGITAL, MOVEMENT = "analog", "digital", "movement"
PARTS = (ANALOG, DIGITAL, MOVEMENT)
TILE_ROWS, TILE_COLS, SELECT = "tile_rows", "tile_cols", "select"
SPLITS = (REPLICATED, CELLS, LINES, COLS, TILE_ROWS, TILE_COLS, SELECT)


class Ref(NamedTuple):
    """A default that is another field's value (``Ref("n")``: the item count)."""
    name: str


#: default of a field the block performing the op sets from its own geometry or position
BLOCK = "<set by the block>"
#: default of a field every op of the kind must carry
REQUIRED = "<required>"


@dataclass(frozen=True)
class Field:
    """One field of an op's meta: ``name``, ``unit``, ``desc``; ``default`` when absent (a
    constant, ``Ref`` to another field or ``n``, ``BLOCK`` or ``REQUIRED``);
    ``structural``: a block's timing or the actions of a block with STRUCTURAL_ACCOUNTING
    read it, so the memo keys on it (the others are value statistics); ``split``: the
    rule sharing it over the tiles of a split layer; ``issued``: ops may carry it (else
    the hardware sets it per tile)."""
    name: str
    unit: str
    desc: str
    default: object = 0
    structural: bool = False   # timing or a structural block's actions read it: memo key
    split: str = REPLICATED
    issued: bool = True        # False: set per tile by the hardware, never in an op

    def __post_init__(self):
        if self.split not in SPLITS:
            raise ValueError(f"field '{self.name}': unknown split rule '{self.split}'")


@dataclass(frozen=True)
class OpKind:
    """One op kind: what ``n`` counts, its fields, the block operation the blocks perform
    (``performs``, default the kind itself), how ``n`` splits over tiles and which
    ``part`` of the machine its work is (analog arrays and their periphery, the digital
    unit and accumulators, data movement: the per-node report's columns)."""
    name: str
    items: str
    desc: str
    fields: tuple = ()
    performs: str = ""
    n_split: str = REPLICATED
    program: bool = True       # False: a block operation only (no program issues it)
    part: str = ANALOG
    by_name: dict = _dc_field(default_factory=dict, compare=False, repr=False)
    by_split: dict = _dc_field(default_factory=dict, compare=False, repr=False)
    values: frozenset = _dc_field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self):
        if not self.performs:
            object.__setattr__(self, "performs", self.name)
        if self.part not in PARTS:
            raise ValueError(f"op '{self.name}': part must be one of {PARTS}")
        if self.n_split not in (REPLICATED, CELLS, COLS):
            raise ValueError(f"op '{self.name}': n cannot split by '{self.n_split}'")
        self.by_name.update((f.name, f) for f in self.fields)
        for rule in SPLITS:
            self.by_split[rule] = frozenset(f.name for f in self.fields if f.split == rule)
        # the value statistics: what the memo key leaves out
        object.__setattr__(self, "values",
                           frozenset(f.name for f in self.fields if not f.structural))

    @property
    def issued(self) -> tuple:
        """Names of the fields an op may carry, in declaration order."""
        return tuple(f.name for f in self.fields if f.issued)

    @property
    def required(self) -> frozenset:
        return frozenset(f.name for f in self.fields if f.default == REQUIRED)


_KINDS: dict = {}
_VALID: dict = {}              # (kind, *meta keys) already validated → its OpKind
_name = itemgetter(0)


def declare(kind: OpKind) -> OpKind:
    """Register an op kind (a block operation it performs must be declared first)."""
    if kind.name in _KINDS:
        raise ValueError(f"op kind '{kind.name}' is declared twice")
    if kind.performs != kind.name and kind.performs not in _KINDS:
        raise ValueError(f"op kind '{kind.name}' performs undeclared '{kind.performs}'")
    _KINDS[kind.name] = kind
    return kind


def undeclare(name: str) -> None:
    """Remove a kind (tests that declare one of their own)."""
    _KINDS.pop(name, None)
    for keys in [k for k in _VALID if k[0] == name]:
        del _VALID[keys]


def get(name: str) -> OpKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise SimulationError(f"unknown op kind '{name}' (known: "
                              f"{', '.join(op_kinds())})") from None


_PART: dict = {}


def part_of(name: str) -> str:
    """``part`` of op kind or block operation ``name`` (cached: the accounting hot path)."""
    p = _PART.get(name)
    if p is None:
        p = _PART[name] = get(name).part
    return p


def op_kinds() -> tuple:
    """Kinds a program may issue, in declaration order."""
    return tuple(k for k, v in _KINDS.items() if v.program)


def issuable(name) -> bool:
    """True for a kind a program may issue."""
    k = _KINDS.get(name) if isinstance(name, str) else None
    return k is not None and k.program


def statistics() -> dict:
    """``{kind: [fields an op may carry]}`` (the trace header's ``statistics``)."""
    return {k: list(v.issued) for k, v in _KINDS.items() if v.program}


def markdown() -> str:
    """The table of op kinds and fields (traces/README.md embeds it; a test checks)."""
    rows = ["| op | n (items) | fields: name (unit) — split over tiles; * = memo key |",
            "|---|---|---|"]
    for k in _KINDS.values():
        if not k.program:
            continue
        fields = ", ".join(f"`{f.name}` ({f.unit}) — {f.split}{' *' if f.structural else ''}"
                           for f in k.fields if f.issued) or "—"
        n = k.items + ("" if k.n_split == REPLICATED else f"; split by {k.n_split}")
        rows.append(f"| `{k.name}` | {n} | {fields} |")
    return "\n".join(rows) + "\n"


def value_fields() -> frozenset:
    """Fields no block's timing (nor a structural block's actions) reads, in any kind."""
    return frozenset(f.name for k in _KINDS.values() for f in k.fields if not f.structural)


def check(kind: str, n, meta) -> OpKind:
    """Validate one op (``meta`` as sorted pairs); returns its kind.  A signature
    ``(kind, field names)`` is validated once (the hot path is one dict lookup)."""
    keys = (kind, *map(_name, meta))
    k = _VALID.get(keys)
    if k is not None and n >= 0:
        return k
    k = get(kind)
    if n < 0:
        raise SimulationError(f"op '{kind}' with negative item count {n}")
    if not k.program:
        raise SimulationError(f"op kind '{kind}' is a block operation, not issued by programs")
    bad = [name for name, _v in meta if name not in k.by_name or not k.by_name[name].issued]
    if bad:
        raise SimulationError(f"op '{kind}': unknown field(s) {', '.join(map(repr, bad))} "
                              f"(fields: {', '.join(k.issued) or 'none'})")
    missing = k.required - {name for name, _v in meta}
    if missing:
        raise SimulationError(f"op '{kind}' needs field(s) {', '.join(sorted(missing))}")
    _VALID[keys] = k
    return k


_MISSING = object()


def field(txn, name: str, block=None):
    """Field ``name`` of a block transaction ``txn``: its value, else the declared
    default (see :func:`value`).  A field the block operation does not declare is a
    SimulationError (a misspelt name fails instead of pricing 0 J)."""
    v = txn.meta.get(name, _MISSING)
    if v is not _MISSING:
        return v
    return value(txn.op, txn.meta, name, txn.n_total, block)


def value(kind: str, meta: dict, name: str, n: int, block=None):
    """Field ``name`` of an op or transaction of ``kind`` with ``meta`` and ``n`` items:
    its value, else its declared default — a constant, a ``Ref`` to another field (or
    ``n``), or ``BLOCK``: ``block``, the value the caller's block derives."""
    v = meta.get(name, _MISSING)
    if v is not _MISSING:
        return v
    k = _KINDS.get(kind)
    f = k.by_name.get(name) if k is not None else None
    if f is None:
        raise SimulationError(f"block operation '{kind}' has no field '{name}'")
    d = f.default
    if isinstance(d, Ref):
        return n if d.name == "n" else value(kind, meta, d.name, n, block)
    if d == BLOCK or d == REQUIRED:
        if block is None:
            raise SimulationError(f"'{kind}' needs field '{name}'")
        return block
    return d


def split_n(kind: OpKind, n: int, slots, in_features: int, meta=(), out_features=0) -> list:
    """Per-slot item counts of an op of ``n`` items (fields ``meta``) on ``slots``."""
    if kind.n_split == REPLICATED:
        return [n] * len(slots)
    if kind.n_split == CELLS:
        cells = sum(s.rows * s.cols for s in slots)
        return [max(1, round(n * (s.rows * s.cols) / cells)) for s in slots]
    m = dict(meta)
    side = m.get("side", "in")
    if side not in ("in", "out"):
        raise SimulationError(f"op '{kind.name}': side must be 'in' or 'out', got {side!r}")
    blocks = [(s.col0, s.cols) if side == "in" else (s.row0, s.rows) for s in slots]
    lines = in_features if side == "in" else out_features
    col = m.get("col")
    if col is None:
        return split_by_blocks(n, blocks, lines)
    return split_from_line(n, int(col), blocks, lines)


def split_by_blocks(n: int, blocks, lines: int) -> list:
    """``n`` of the layer's ``lines`` apportioned over the line blocks ``(first, count)``
    of the slots (largest remainder, ties to the first block); each slot gets its
    block's count."""
    distinct = sorted(set(blocks))
    total = sum(c for _f, c in distinct) or lines
    base = {b: n * b[1] // total for b in distinct}
    rest = n - sum(base.values())
    for b in sorted(distinct, key=lambda b: (-(n * b[1] % total), b[0]))[:rest]:
        base[b] += 1
    return [base[b] for b in blocks]


def split_from_line(n: int, first: int, blocks, lines: int) -> list:
    """``n`` consecutive lines from ``first`` on (wrapping at ``lines``): each slot gets
    those inside its block ``(first line, count)``."""
    picked = [(first + i) % lines for i in range(min(n, lines))]
    return [sum(1 for j in picked if f <= j < f + c) for f, c in blocks]


def split_scale(kind: OpKind, share, lines) -> dict:
    """``{field: factor}`` of a tile's share of an op of ``kind``: ``cells`` fields scaled
    by the tile's ``share`` of the cells, ``lines`` fields (when ``lines`` is given) by
    its share of the lines; the others are not scaled (absent)."""
    scale = dict.fromkeys(kind.by_split[CELLS], share)
    if lines is not None:
        scale.update(dict.fromkeys(kind.by_split[LINES], lines))
    return scale


def scale_meta(meta, scale: dict) -> dict:
    """``meta`` (sorted pairs) as a dict, each field of ``scale`` times its factor (the op
    memo keeps ``scale`` per op structure: the hot path of a hit)."""
    tm = {}
    for k, v in meta:
        f = scale.get(k)
        tm[k] = v if f is None else v * f
    return tm


def split_meta(kind: OpKind, meta, share, lines) -> dict:
    """A tile's share of an op's ``meta`` (sorted pairs), by :func:`split_scale`."""
    return scale_meta(meta, split_scale(kind, share, lines))


# -- the op kinds ---------------------------------------------------------------------
def _mvm(col: bool = False) -> tuple:
    return ((Field("col", "column", "first column index read", split=SELECT,
                   structural=True),
             Field("minus", "role", "reference array read differentially on the same output "
                   "lines (A − R): its tiles integrate with the op's, one conversion of the "
                   "difference", None, structural=True),
             Field("span", "flag", "1: every column of tiles reads n of its own columns at "
                   "once (col: the first tile's)", 0, split=SELECT, structural=True))
            if col else ()) + (
        Field("sum_gv2", "1", "Σ ĝ·v̂² read-energy units of the MVM", 0.0, split=CELLS),
        Field("adc_saturations", "conversions", "ADC outputs clipped", 0, split=CELLS),
        Field("bm_repeats", "vectors", "bound-management repeats (already counted in n)", 0),
        Field("lines_in", "lines", "driven lines of the tile", BLOCK, True, TILE_COLS, False),
        Field("lines_out", "lines", "converted lines of the tile", BLOCK, True, TILE_ROWS,
              False))


def _transposed(fields) -> tuple:
    swap = {TILE_COLS: TILE_ROWS, TILE_ROWS: TILE_COLS}
    return tuple(Field(f.name, f.unit, f.desc, f.default, f.structural,
                       swap.get(f.split, f.split), f.issued) for f in fields)


_SLOTS = (Field("row_slots", "line·slots", "(row line, slot) pairs that fired", split=LINES),
          Field("col_slots", "line·slots", "(column line, slot) pairs that fired", split=LINES))
_BYTES = Field("bytes", "B", "bytes moved when n counts something else", Ref("n"), True)

declare(OpKind("forward", "vectors (incl. BM repeats)", "MVM y = W x", _mvm()))
declare(OpKind("backward", "vectors (incl. BM repeats)", "transposed MVM g = Wᵀ d",
               _transposed(_mvm())))
declare(OpKind("read_column", "vectors (one per column)", "column reads for a transfer",
               _mvm(col=True)))
declare(OpKind("update", "pulse slots Σ_b BL_b", "parallel outer-product pulsed update", (
    Field("pulses", "pulses", "device pulses applied", 0, split=CELLS),
    *_SLOTS,
    Field("samples", "samples", "rank-one updates in the op", 0),
    Field("rng_draws", "draws", "random numbers drawn (default one per line per slot)",
          BLOCK, split=LINES))))
declare(OpKind("serial_write", "row steps", "row-by-row pulse write", (
    Field("pulses", "pulses", "device pulses applied", 0, split=CELLS),
    Field("max_pulses", "pulses", "pulse widths per row step", REQUIRED, True),
    # default by block: the pulse generator drives one line-slot per device pulse, the
    # tile counts no row drive (kept as they were; see the ops report)
    Field("row_slots", "line·slots", "(row line, slot) pairs driven", BLOCK, split=LINES),
    Field("col_slots", "line·slots", "(column line, slot) pairs driven", 0, split=LINES),
    Field("rng_draws", "draws", "random numbers drawn", 0, split=LINES))))
declare(OpKind("accumulate", "elements added", "add into a digital accumulator", (
    Field("compares", "tests", "threshold tests", Ref("n"), split=CELLS),
    Field("writes", "words", "elements rewritten after a threshold crossing", 0, split=CELLS),
    Field("reads", "words", "words read out toward the array", Ref("writes"), split=CELLS)),
    n_split=CELLS, part=DIGITAL))
declare(OpKind("flip", "chopper lines flipped (the layer's input lines; output with side: out)",
               "chopper sign flips", (
                   Field("col", "line", "first flipped line: the n lines are counted from "
                         "it on (wrapping); absent, they are apportioned by block share",
                         None, True, SELECT),
                   Field("side", "-", "'in': input (column) lines, 'out': output (row) lines",
                         "in", True)), n_split=COLS))
declare(OpKind("digital", "digital operations", "work on the digital unit", (
    Field("kind", "-", "what the operations are (activation, loss_grad, partial_sum, ...)",
          "op", True),), part=DIGITAL))
declare(OpKind("transfer", "bytes", "buffer and interconnect traffic", (
    _BYTES,
    Field("access", "-", "'read' or 'write' (default: by the buffer's place in the route)",
          BLOCK, True)), part=MOVEMENT))
declare(OpKind("move", "bytes", "a tensor of the training step stored or re-read; the "
               "machine places it (buffer up to its capacity, the rest in DRAM)", (
                   Field("access", "-", "'read' or 'write'", REQUIRED, True),
                   Field("offset", "B", "bytes of the step's live data placed before the "
                         "tensor (placement order)", 0, True),
                   Field("extent", "B", "size of the tensor the access reads or writes "
                         "(its placement share)", Ref("n"), True),
                   Field("what", "-", "activation, patches, error, ... (for reports)",
                         "data", True),
                   Field("window", "B", "a conv layer's patch read: the line-buffer bytes "
                         "its window needs ((k_h − 1) rows of the input map); 0: not "
                         "line-bufferable", 0, True),
                   Field("unique", "B", "a conv layer's patch read: the bytes of the input "
                         "map under the patches (each read once through a line buffer)", 0,
                         True)), part=MOVEMENT))
declare(OpKind("dram", "bytes", "off-chip DRAM access (block operation)", (
    _BYTES, Field("access", "-", "'read' or 'write'", "read", True)), program=False,
    part=MOVEMENT))
declare(OpKind("line", "bytes", "line-buffer access of conv patches (block operation)", (
    _BYTES, Field("access", "-", "'read' or 'write'", "read", True)), program=False,
    part=MOVEMENT))
declare(OpKind("buffer_read", "bytes", "buffer read (block operation)", (_BYTES,),
               program=False, part=MOVEMENT))
declare(OpKind("buffer_write", "bytes", "buffer write (block operation)", (_BYTES,),
               program=False, part=MOVEMENT))
