"""Transaction routes derived from the connection graph (layer 4).

An op on a tile flows through a chain of blocks; which blocks is not written down per
accelerator but found in its connections.  :data:`TILE_ROUTES` names, per op kind, the
*waypoints* of the chain by component kind, starting from the tile (the crossbar):

* ``forward`` / ``backward`` / ``read_column``: DAC → **Tile** → ADC
* ``update``: PulseGenerator → **Tile**;  ``serial_write``: **Tile**
* ``accumulate``: (Tile → ADC →) DigitalAccumulator — optional: without one the chip's
  digital unit adds and compares
* ``flip``: Chopper (→ Tile) — optional: a flip on a tile without a chopper is an error
  when it is issued

Waypoints in parentheses only locate the block (they are not on the route).  From the
tile, each next waypoint is the nearest component of that kind (a subclass counts)
downstream (upstream for the waypoints before the tile) along the connections; blocks
between two route waypoints are on the route when they take part in the op (their
``OPS``), so a block inserted into the chain in the connections (a sample-and-hold
between tile and ADC) lands on the route.  Several nearest candidates (an ADC bank
shared by tiles, feeding each tile's accumulator) resolve to the one under the tile's
path; otherwise the route is ambiguous — an error, as is a tile that lacks a required
route.  Chip ops have :data:`CHIP_ROUTES`: ``digital`` on the DigitalUnit,
``transfer`` Buffer → Interconnect, ``dram`` on the off-chip DRAM, ``line`` on the
line buffer of conv patches (both optional: a chip without one has no such route).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hwsim.core import kind as kind_of
from hwsim.errors import BuildError

#: op kind -> waypoints ``(component kind, on the route)``; exactly one is the Tile.
TILE_ROUTES: dict[str, tuple[tuple[str, bool], ...]] = {
    "forward": (("DAC", True), ("Tile", True), ("ADC", True)),
    "backward": (("DAC", True), ("Tile", True), ("ADC", True)),
    "read_column": (("DAC", True), ("Tile", True), ("ADC", True)),
    "update": (("PulseGenerator", True), ("Tile", True)),
    "serial_write": (("Tile", True),),
    "accumulate": (("Tile", False), ("ADC", False), ("DigitalAccumulator", True)),
    "flip": (("Chopper", True), ("Tile", False)),
}
#: tile routes a tile may lack (the op then falls back, or fails when issued)
OPTIONAL = frozenset(("accumulate", "flip"))
#: chip-level op kind -> waypoints from the chip's one block of the first kind
CHIP_ROUTES: dict[str, tuple[tuple[str, bool], ...]] = {
    "digital": (("DigitalUnit", True),),
    "transfer": (("Buffer", True), ("Interconnect", True)),
    "dram": (("DRAM", True),),
    "line": (("LineBuffer", True),),
}
#: chip routes a chip may lack (an accelerator without off-chip DRAM or line buffer)
CHIP_OPTIONAL = frozenset(("dram", "line"))


@dataclass(frozen=True)
class TileRoutes:
    """One tile (crossbar) of the machine and the route of every op it takes part in."""
    index: int
    path: str
    routes: dict = field(default_factory=dict)     # op kind -> tuple of component paths

    def route(self, op: str):
        """The route of ``op``, or None when the tile has none (optional routes)."""
        return self.routes.get(op)


def _is(comp, kind_name: str) -> bool:
    return isinstance(comp, kind_of(kind_name))


def _takes_part(comp, op: str) -> bool:
    return op in getattr(comp, "OPS", ())


def _reverse(adjacency: dict) -> dict:
    rev: dict = {p: set() for p in adjacency}
    for a, dsts in adjacency.items():
        for b in dsts:
            rev.setdefault(b, set()).add(a)
    return rev


def _nearest(start, want, op, through, graph, comps, home):
    """Shortest path(s) from ``start`` to a component of kind ``want`` along ``graph``;
    intermediate blocks must take part in ``op`` (only direct neighbours when
    ``through`` is False).  Returns the path without ``start``, or None; raises on a
    tie not broken by the tile's own subtree ``home``."""
    frontier, seen = [(start,)], {start}
    while frontier:
        found, nxt = [], []
        for chain in frontier:
            for p in sorted(graph.get(chain[-1], ())):
                if p in seen:
                    continue
                if _is(comps[p], want):
                    found.append(chain[1:] + (p,))
                elif through and _takes_part(comps[p], op):
                    nxt.append(chain + (p,))
        if found:
            if len(found) > 1:
                own = [c for c in found if c[-1].startswith(home + ".")]
                if len(own) != 1:
                    raise BuildError(f"route of '{op}' from '{start}' is ambiguous: "
                                     f"{', '.join(c[-1] for c in found)} ({want})")
                found = own
            return found[0]
        seen.update(c[-1] for c in nxt)
        frontier = nxt
    return None


def _chain(op, waypoints, anchor, comps, adj, rev, home):
    """The route of ``op`` through ``waypoints`` around the component ``anchor``
    (index ``a`` in the waypoints), or (None, missing-waypoint message)."""
    a = next(i for i, (k, _) in enumerate(waypoints) if _is(comps[anchor], k))
    route = [anchor] if waypoints[a][1] else []
    cur = anchor
    for j in range(a + 1, len(waypoints)):
        through = waypoints[j - 1][1] and waypoints[j][1]
        path = _nearest(cur, waypoints[j][0], op, through, adj, comps, home)
        if path is None:
            return None, f"no {waypoints[j][0]} connected downstream of '{cur}'"
        route += path[:-1] if through else []
        route += [path[-1]] if waypoints[j][1] else []
        cur = path[-1]
    cur = anchor
    for j in range(a - 1, -1, -1):
        through = waypoints[j + 1][1] and waypoints[j][1]
        path = _nearest(cur, waypoints[j][0], op, through, rev, comps, home)
        if path is None:
            return None, f"no {waypoints[j][0]} connected upstream of '{cur}'"
        head = ([path[-1]] if waypoints[j][1] else []) + (list(reversed(path[:-1]))
                                                         if through else [])
        route = head + route
        cur = path[-1]
    return tuple(route), None


def derive_routes(comps: dict, adjacency: dict, tiles: list[str], *,
                  file: str = "") -> tuple[list[TileRoutes], dict]:
    """Routes of every tile (``tiles``: Tile component paths in index order) and of the
    chip ops, from the checked connections ``adjacency`` ({src: {dst}}).  A missing
    required route or an ambiguous one is a :class:`BuildError` (key ``connections``)."""
    rev = _reverse(adjacency)
    out = []
    for i, t in enumerate(tiles):
        routes = {}
        for op, waypoints in TILE_ROUTES.items():
            route, why = _chain(op, waypoints, t, comps, adjacency, rev, t)
            if route is None:
                if op in OPTIONAL:
                    continue
                raise BuildError(f"tile '{t}' has no route for '{op}' "
                                 f"({' -> '.join(k for k, _ in waypoints)}): {why}",
                                 file=file, key="connections")
            routes[op] = route
        out.append(TileRoutes(i, t, routes))
    chip = {}
    for op, waypoints in CHIP_ROUTES.items():
        first = waypoints[0][0]
        cands = sorted(p for p, c in comps.items() if _is(c, first))
        if not cands and op in CHIP_OPTIONAL:
            continue
        if len(cands) != 1:
            raise BuildError(f"the chip's '{op}' route needs exactly one {first}, found "
                             f"{len(cands)}{': ' + ', '.join(cands) if cands else ''}",
                             file=file, key="components")
        route, why = _chain(op, waypoints, cands[0], comps, adjacency, rev, "chip")
        if route is None:
            raise BuildError(f"the chip has no route for '{op}' "
                             f"({' -> '.join(k for k, _ in waypoints)}): {why}",
                             file=file, key="connections")
        chip[op] = route
    return out, chip
