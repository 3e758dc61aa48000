"""Energy and area estimation (layer 3): action ledger × technology table.

Energy is the ledger priced row by row (DESIGN.md, "Components never compute
energy")::

    E_row = count × price(kind, action, attrs)        E_total = Σ_rows E_row

plus, when the components and the run's latency ``T`` are given, the **static**
energy of every block (leakage, bias, clock tree: the table's ``static`` power, see
:mod:`hwsim.energy.table`)::

    E_static = Σ_components P_static × T        E_total = E_dynamic + E_static

(a block pays its leakage whether it works or idles, so energy grows with latency).
The static energy of each block is also a priced row (action and phase ``static``,
count = T in seconds, price = P_static in W), so ``total = Σ count × price`` still holds
and every breakdown (per path, action, phase) sums to the total.
:class:`EnergyReport` keeps every row (path, kind, action, attributes, phase,
count, unit price, energy, source) so each number traces to a table entry, plus the
sums per component path, per action, per phase and per (path, action).  Sums use
``math.fsum`` so they are exact to rounding of the total.

Area sums the area of every component from its ``area_attrs()``::

    A_comp = A_entry × Π area_per attributes × count      A_total = Σ_comp A_comp

**What is not priced is said.**  Both reports list what their total leaves out
(``unpriced``, by component kind and action, with the table and its source):

* an **area** of 0 (no component is really free of area) or a component without
  ``area_attrs``: *not modelled*, and the area total is marked ``partial``;
* a component whose **static power** the table does not give (or gives as 0 W):
  *not modelled* (action ``static``), and the energy total is marked ``partial``;
* an **action priced at 0 J** that occurred: listed (``0 J in the table``) with the
  table's reason, e.g. ``Tile.read: 0 J, the MVM energy is priced per cell by
  read_cell``.  An action a table does not price at all stops the estimate
  (:class:`~hwsim.energy.table.UnpricedError`), so only a missing static power makes
  an energy total partial.

``reason`` is the clause of the entry's source about that action (sources are
``"; "``-separated clauses such as ``"area: not in TECHNOLOGY.md, not modelled"``);
``source`` the whole text.

The numbers are never changed: nothing is invented for what a table does not price.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from hwsim.energy.table import TechnologyTable

NOT_MODELLED = "not modelled"
STATIC = "static"       # action and phase of the static-energy rows
ZERO_IN_TABLE = "0 J in the table"


@dataclass(frozen=True)
class EnergyRow:
    """One priced ledger row."""
    path: str
    kind: str
    action: str
    attrs: tuple          # sorted (name, value) pairs
    phase: str
    count: float
    price: float          # J per action
    energy: float         # count × price, J
    source: str

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "action": self.action,
                "attrs": dict(self.attrs), "phase": self.phase, "count": self.count,
                "price_J": self.price, "energy_J": self.energy, "source": self.source}


@dataclass(frozen=True)
class StaticRow:
    """The static energy of one component over the run: ``power × seconds``."""
    path: str
    kind: str
    attrs: tuple
    unit_power: float     # W per instance per unit of area_per
    multiplier: float     # Π area_per attributes × count
    power: float          # W
    seconds: float        # run latency, s
    energy: float         # J
    source: str

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "attrs": dict(self.attrs),
                "unit_power_W": self.unit_power, "multiplier": self.multiplier,
                "power_W": self.power, "seconds": self.seconds, "energy_J": self.energy,
                "source": self.source}


def _sum_by(rows, key) -> dict:
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r.energy)
    return {k: math.fsum(v) for k, v in sorted(groups.items())}


class EnergyReport:
    """Priced ledger: rows and their sums (all energies in J)."""

    def __init__(self, rows, table_name: str = "", table_file: str = "", static_rows=()):
        self.static_rows = tuple(static_rows)
        # the static energy joins the priced rows (action and phase ``static``, count =
        # seconds, price = W), so every sum below and Σ count × price include it
        self.rows = tuple(rows) + tuple(
            EnergyRow(r.path, r.kind, STATIC, r.attrs, STATIC, r.seconds, r.power, r.energy,
                      r.source) for r in self.static_rows if r.power > 0)
        self.table_name = table_name
        self.table_file = table_file

    @property
    def dynamic(self) -> float:
        """Σ count × price over the ledger's actions, J."""
        return math.fsum(r.energy for r in self.rows if r.phase != STATIC)

    @property
    def static(self) -> float:
        """Σ P_static × T over the components, J."""
        return math.fsum(r.energy for r in self.static_rows)

    @property
    def static_power(self) -> float:
        return math.fsum(r.power for r in self.static_rows)

    @property
    def total(self) -> float:
        return math.fsum(r.energy for r in self.rows)

    def static_by_kind(self) -> dict:
        return _sum_by(self.static_rows, lambda r: r.kind)

    def by_path(self) -> dict:
        return _sum_by(self.rows, lambda r: r.path)

    def by_action(self) -> dict:
        """Energy per ``Kind.action`` over all components."""
        return _sum_by(self.rows, lambda r: f"{r.kind}.{r.action}")

    def by_phase(self) -> dict:
        return _sum_by(self.rows, lambda r: r.phase)

    def by_path_action(self) -> dict:
        """``{(path, action): {count, price_J, energy_J, source}}``; ``price_J`` is the
        unit price (energy/count if the rows of one pair were priced differently)."""
        groups = defaultdict(list)
        for r in self.rows:
            groups[(r.path, r.action)].append(r)
        out = {}
        for key, rs in sorted(groups.items()):
            count = math.fsum(r.count for r in rs)
            energy = math.fsum(r.energy for r in rs)
            prices = {r.price for r in rs}
            price = prices.pop() if len(prices) == 1 else (energy / count if count else 0.0)
            out[key] = {"kind": rs[0].kind, "count": count, "price_J": price, "energy_J": energy,
                        "source": " | ".join(sorted({r.source for r in rs}))}
        return out

    def unpriced(self) -> list[dict]:
        """The actions that occurred but cost 0 J in the table, and the components whose
        static power is not modelled (see module docstring)."""
        groups = defaultdict(list)
        for r in self.rows:
            if r.price == 0 and r.count > 0:
                groups[(r.kind, r.action)].append(r)
        out = [{"kind": k, "action": a, "count": math.fsum(r.count for r in rs),
                "components": len({r.path for r in rs}), "table": self.table_name,
                "status": ZERO_IN_TABLE, "reason": reason(rs[0].source, a),
                "source": rs[0].source}
               for (k, a), rs in sorted(groups.items())]
        static = defaultdict(list)
        for r in self.static_rows:
            if r.power == 0:
                static[r.kind].append(r)
        out += [{"kind": k, "action": "static", "components": len(rs),
                 "paths": [r.path for r in rs[:3]], "table": self.table_name,
                 "status": NOT_MODELLED, "reason": reason(rs[0].source, "static"),
                 "source": rs[0].source}
                for k, rs in sorted(static.items())]
        return out

    def to_dict(self) -> dict:
        unpriced = self.unpriced()
        return {
            "unpriced": unpriced,
            "partial": any(u["status"] == NOT_MODELLED for u in unpriced),
            "table": self.table_name, "table_file": self.table_file, "total_J": self.total,
            "dynamic_J": self.dynamic, "static_J": self.static,
            "static_power_W": self.static_power, "static_by_kind_J": self.static_by_kind(),
            "by_path_J": self.by_path(), "by_action_J": self.by_action(),
            "by_phase_J": self.by_phase(),
            "by_path_action": [{"path": p, "action": a, **v}
                               for (p, a), v in self.by_path_action().items()],
            "rows": [r.to_dict() for r in self.rows],
            "static_rows": [r.to_dict() for r in self.static_rows],
        }




def reason(source: str, action: str) -> str:
    """The clauses of ``source`` about ``action`` (``"area"`` or an action name):
    those starting with ``action:``, else with ``action``, else naming it, else the
    whole source."""
    clauses = [c.strip() for c in source.split("; ") if c.strip()]
    for pick in (lambda c: c.startswith(action + ":"), lambda c: c.startswith(action + " "),
                 lambda c: action in c):
        hit = [c for c in clauses if pick(c)]
        if hit:
            return "; ".join(hit)
    return source


def estimate(ledger, table: TechnologyTable, components=None,
             seconds: float = 0.0) -> EnergyReport:
    """Price every row of an :class:`~hwsim.core.ledger.ActionLedger` (or any object with
    ``items()`` yielding ``(key, count)`` where key has path, kind, action, attrs, phase);
    with ``components`` (as for :func:`area_report`) also charge each one's static power
    for ``seconds`` (the run's latency)."""
    rows = []
    for key, count in ledger.items():
        p = table.lookup(key.kind, key.action, key.attrs)
        rows.append(EnergyRow(key.path, key.kind, key.action, tuple(key.attrs), key.phase,
                              count, p.value, count * p.value, p.source))
    static = static_rows(components, table, seconds) if components is not None else ()
    return EnergyReport(rows, table.name, table.file, static)


def node_energy(node_rows: dict, table: TechnologyTable) -> dict:
    """Dynamic energy per ``(layer, part)``: ``Σ count × price`` over the ledger's node
    attribution (:meth:`~hwsim.core.ledger.ActionLedger.node_rows`), J.  Every action is
    attributed once, so the values sum to the dynamic total (to rounding); static
    energy belongs to no node."""
    groups = defaultdict(list)
    for (layer, part, key), count in node_rows.items():
        groups[(layer, part)].append(count * table.lookup(key.kind, key.action, key.attrs).value)
    return {k: math.fsum(v) for k, v in sorted(groups.items())}


def static_rows(components, table: TechnologyTable, seconds: float) -> list[StaticRow]:
    """``P_static × seconds`` of every component (components without area attributes use
    no attributes; a kind without a static entry is a 0 W row, listed as not modelled)."""
    out = []
    for path, kind, attrs in _component_items(components):
        attrs = attrs or {}
        p = table.lookup_static(kind, attrs)
        if p is None:
            out.append(StaticRow(path, kind, tuple(sorted(attrs.items())), 0.0, 0.0, 0.0,
                                 seconds, 0.0, "static: no entry in the table, not modelled"))
            continue
        m = table.static_multiplier(kind, attrs)
        power = p.value * m
        out.append(StaticRow(path, kind, tuple(sorted(attrs.items())), p.value, m, power,
                             seconds, power * seconds, p.source))
    return out


@dataclass(frozen=True)
class AreaRow:
    path: str
    kind: str
    attrs: tuple
    unit_area: float       # m² per instance per unit of area_per
    multiplier: float      # Π area_per attributes × count
    area: float            # m²
    source: str

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "attrs": dict(self.attrs),
                "unit_area_m2": self.unit_area, "multiplier": self.multiplier,
                "area_m2": self.area, "source": self.source}


class AreaReport:
    """Area of every component (m²); ``skipped`` lists components without ``area_attrs``."""

    def __init__(self, rows, skipped=(), table_name: str = ""):
        self.rows = tuple(rows)
        self.skipped = tuple(skipped)
        self.table_name = table_name

    @property
    def total(self) -> float:
        return math.fsum(r.area for r in self.rows)

    def by_kind(self) -> dict:
        groups = defaultdict(list)
        for r in self.rows:
            groups[r.kind].append(r.area)
        return {k: math.fsum(v) for k, v in sorted(groups.items())}

    def unpriced(self) -> list[dict]:
        """Component kinds whose area is not modelled: area 0 in the table, or no
        ``area_attrs`` (``skipped``); every one makes the total partial."""
        groups = defaultdict(list)
        for r in self.rows:
            if r.area == 0:
                groups[r.kind].append(r)
        out = [{"kind": k, "action": "area", "components": len(rs),
                "paths": [r.path for r in rs[:3]], "table": self.table_name,
                "status": NOT_MODELLED, "reason": reason(rs[0].source, "area"),
                "source": rs[0].source}
               for k, rs in sorted(groups.items())]
        if self.skipped:
            out.append({"kind": "(no area_attrs)", "action": "area",
                        "components": len(self.skipped), "paths": list(self.skipped[:3]),
                        "table": self.table_name, "status": NOT_MODELLED,
                        "reason": "the component reports no area attributes",
                        "source": "the component reports no area attributes"})
        return out

    def to_dict(self) -> dict:
        unpriced = self.unpriced()
        return {"unpriced": unpriced, "partial": bool(unpriced),
                "table": self.table_name, "total_m2": self.total, "by_kind_m2": self.by_kind(),
                "by_path_m2": {r.path: r.area for r in self.rows},
                "rows": [r.to_dict() for r in self.rows], "skipped": list(self.skipped)}


def _component_items(components):
    """Yield ``(path, kind, attrs | None)`` from components or plain descriptions.

    Accepts a mapping ``path -> component`` (objects with ``KIND`` and ``area_attrs()``),
    a mapping ``path -> {"kind": ..., "attrs": {...}}``, or an iterable of components.
    """
    items = components.items() if isinstance(components, dict) else \
        ((c.path, c) for c in components)
    for path, c in sorted(items, key=lambda pc: pc[0]):
        if isinstance(c, dict):
            yield path, c["kind"], dict(c.get("attrs", {}))
        else:
            fn = getattr(c, "area_attrs", None)
            yield path, c.KIND, (dict(fn()) if fn is not None else None)


def area_report(components, table: TechnologyTable) -> AreaReport:
    """Area of each component priced by ``table`` (count-aware, see module docstring)."""
    rows, skipped = [], []
    for path, kind, attrs in _component_items(components):
        if attrs is None:
            skipped.append(path)
            continue
        p = table.lookup_area(kind, attrs)
        m = table.area_multiplier(kind, attrs)
        rows.append(AreaRow(path, kind, tuple(sorted(attrs.items())), p.value, m, p.value * m,
                            p.source))
    return AreaReport(rows, skipped, table.name)
