"""Accelerator config -> graph of components (layer 4).

:func:`build_machine` instantiates the explicit form of an accelerator (a compact form
is expanded by :func:`hwsim.elaborate.template.expand` from the one table of the tile
template, :mod:`hwsim.config.blocks`), checks every connection (dangling, doubly connected, type mismatch ->
:class:`BuildError`), derives the transaction routes from the connections
(:mod:`hwsim.elaborate.routes`) and returns a :class:`Machine`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hwsim.components import Tile
from hwsim.config.accelerator import AcceleratorConfig
from hwsim.config.blocks import BLOCKS
from hwsim.config.params import build_section
from hwsim.core import ActionLedger, Clock, check_connections, kind as kind_of
from hwsim.elaborate.routes import TileRoutes, derive_routes
from hwsim.elaborate.template import expand, is_explicit
from hwsim.errors import BuildError, ConfigError

__all__ = ["Machine", "TileRoutes", "build_machine", "expand"]


@dataclass
class Machine:
    """The built accelerator: components by path, checked connections, clocks, and the
    routes derived from the connections (``tiles[i].route(op)``, ``routes[op]`` for the
    chip ops ``digital`` and ``transfer``)."""
    config: AcceleratorConfig
    components: dict
    adjacency: dict
    clocks: dict
    tiles: list
    routes: dict
    ledger: ActionLedger = field(default_factory=ActionLedger)


def build_machine(cfg: AcceleratorConfig, ledger: ActionLedger | None = None) -> Machine:
    """Instantiate every component of the (expanded) description and check the graph."""
    ledger = ledger or ActionLedger()
    clocks = {name: Clock(name, hz) for name, hz in cfg.clock_hz().items()}
    explicit = expand(cfg)
    comps = {}
    for c in explicit["components"]:
        path = c["path"]
        if path in comps:
            raise BuildError(f"duplicate component path '{path}'", file=cfg.file)
        try:
            cls = kind_of(c["kind"])
        except KeyError:
            raise BuildError(f"component '{path}': unknown kind '{c['kind']}'", file=cfg.file,
                             key="components") from None
        params = c["params"]
        if not dataclasses.is_dataclass(params):
            try:
                params = build_section(cls.Params, params, f"components.{path}.params")
            except ConfigError as exc:
                raise BuildError(exc.message, file=cfg.file, key=exc.key) from None
        clk = getattr(params, "clock", "digital")
        if clk not in clocks:
            raise BuildError(f"component '{path}': unknown clock '{clk}'", file=cfg.file)
        try:
            comps[path] = cls(path, params, clocks[clk], ledger, **c.get("args", {}))
        except TypeError as exc:
            raise BuildError(f"component '{path}' ({c['kind']}): bad geometry arguments "
                             f"{c.get('args')}: {exc}", file=cfg.file) from None
    adjacency = check_connections(comps, [tuple(x) for x in explicit["connections"]],
                                  where=lambda i: {"file": cfg.file},
                                  unconnected={"file": cfg.file, "key": "connections"})
    tiles = [p for p, c in comps.items() if isinstance(c, Tile)]
    for p in tiles:                 # converters without sample-and-hold hold the array
        comps[p].holding_converters = tuple(
            comps[q] for q in sorted(adjacency.get(p, ()))
            if comps[q].KIND == "ADC" and not comps[q].params.sample_hold)
    if is_explicit(cfg):
        _check_explicit_tiles(cfg, [comps[p] for p in tiles])
        _check_explicit_periphery(cfg, comps)
    tile_routes, chip_routes = derive_routes(comps, adjacency, tiles, file=cfg.file)
    return Machine(cfg, comps, adjacency, clocks, tile_routes, chip_routes, ledger)


def _check_explicit_periphery(cfg: AcceleratorConfig, comps: dict) -> None:
    """The numbers path reads the tile template's sections (``tile``, ``tile.periphery.*``:
    DAC/ADC resolution, chopper, accumulator…): an explicit component of a template kind
    must have exactly those params, so that the physics and the cost model describe the
    same hardware."""
    blocks = [(kind_of(b.kind), b) for b in BLOCKS if b.scope == "tile"]
    for path, comp in comps.items():
        for cls, b in blocks:
            if type(comp) is not cls:
                continue
            sect = b.params_of(cfg)
            if sect is None:
                raise BuildError(f"component '{path}' is a {b.kind} but {b.section} is not "
                                 f"declared (the numbers path reads it)", file=cfg.file,
                                 key=f"components.{path}")
            for f in dataclasses.fields(cls.Params):
                mine, theirs = getattr(comp.params, f.name), getattr(sect, f.name)
                if mine != theirs:
                    raise BuildError(f"{b.kind} '{path}' has {f.name} {mine!r} but "
                                     f"{b.section}.{f.name} is {theirs!r} (the numbers path "
                                     f"reads {b.section})", file=cfg.file,
                                     key=f"components.{path}.params.{f.name}")


def _check_explicit_tiles(cfg: AcceleratorConfig, tiles: list) -> None:
    """The mapping and the numbers path read ``tile`` (count, rows, cols): an explicit
    form's Tile components must agree with it."""
    if len(tiles) != cfg.tile.count:
        raise BuildError(f"the explicit form declares {len(tiles)} Tile components but "
                         f"tile.count is {cfg.tile.count}", file=cfg.file, key="tile.count")
    for t in tiles:
        for dim in ("rows", "cols"):
            if getattr(t.params, dim) != getattr(cfg.tile, dim):
                raise BuildError(f"Tile '{t.path}' has {dim} {getattr(t.params, dim)} but "
                                 f"tile.{dim} is {getattr(cfg.tile, dim)}", file=cfg.file,
                                 key=f"components.{t.path}.params.{dim}")
