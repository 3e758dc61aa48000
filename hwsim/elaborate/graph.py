"""Accelerator config -> graph of components (layer 4).

:func:`expand` turns the compact form (a tile template replicated ``count`` times)
into the explicit form: a list of component instances (path, kind, params, lines)
and ``[src.port, dst.port]`` connections.  :func:`build_machine` instantiates the
explicit form, checks every connection (dangling, doubly connected, type mismatch
-> :class:`BuildError`) and returns a :class:`Machine`.

Paths of the compact form::

    chip.buffer  chip.noc  chip.digital
    chip.tile{i}.dac  .array  .adc  .pgen  [.chopper]  [.acc]
    chip.adcbank{j}   (instead of .adc when tiles_per_adc_bank > 1)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import hwsim.components  # noqa: F401  (registers every kind)
from hwsim.config.accelerator import AcceleratorConfig
from hwsim.config.params import build_section
from hwsim.core import ActionLedger, Clock, check_connections, kind as kind_of
from hwsim.errors import BuildError, ConfigError


@dataclass(frozen=True)
class TileGroup:
    """Paths of one tile and its periphery."""
    index: int
    array: str
    dac: str
    adc: str
    pgen: str
    chopper: str | None
    acc: str | None


@dataclass
class Machine:
    config: AcceleratorConfig
    components: dict
    adjacency: dict
    clocks: dict
    tiles: list
    digital: str
    buffer: str
    noc: str
    ledger: ActionLedger = field(default_factory=ActionLedger)


def _params_dict(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def expand(cfg: AcceleratorConfig) -> dict:
    """The explicit form of a compact description: ``{"components": [...], "connections": [...]}``."""
    t = cfg.tile
    per = t.periphery
    comps = [
        {"path": "chip.buffer", "kind": "Buffer", "params": _params_dict(cfg.buffer)},
        {"path": "chip.noc", "kind": "Interconnect", "params": _params_dict(cfg.interconnect)},
        {"path": "chip.digital", "kind": "DigitalUnit", "params": _params_dict(cfg.digital_unit)},
    ]
    conns = [("chip.buffer.out", "chip.noc.in"), ("chip.noc.out", "chip.digital.in"),
             ("chip.digital.out", "chip.buffer.in")]
    from hwsim.config.blocks import TileParams
    tile_params = {f.name: getattr(t, f.name) for f in dataclasses.fields(TileParams)}
    share = per.tiles_per_adc_bank
    for i in range(t.count):
        base = f"chip.tile{i}"
        comps += [
            {"path": f"{base}.dac", "kind": "DAC", "params": _params_dict(per.dac),
             "args": {"lines": t.cols}},
            {"path": f"{base}.array", "kind": "Tile", "params": tile_params},
            {"path": f"{base}.pgen", "kind": "PulseGenerator",
             "params": _params_dict(per.pulse_generator), "args": {"rows": t.rows, "cols": t.cols}},
        ]
        if share == 1:
            adc = f"{base}.adc"
            comps.append({"path": adc, "kind": "ADC", "params": _params_dict(per.adc),
                          "args": {"lines": t.rows}})
        else:
            adc = f"chip.adcbank{i // share}"
            if i % share == 0:
                comps.append({"path": adc, "kind": "ADC", "params": _params_dict(per.adc),
                              "args": {"lines": t.rows}})
        conns += [("chip.noc.out", f"{base}.dac.in"), (f"{base}.dac.out", f"{base}.array.in"),
                  (f"{base}.array.out", f"{adc}.in"), (f"{adc}.out", "chip.noc.in"),
                  ("chip.noc.out", f"{base}.pgen.in"), (f"{base}.pgen.pulses", f"{base}.array.pulses")]
        if per.chopper is not None:
            # the chopper's sign-control lines are wired inside the tile (no data ports)
            comps.append({"path": f"{base}.chopper", "kind": "Chopper",
                          "params": _params_dict(per.chopper),
                          "args": {"rows": t.rows, "cols": t.cols}})
        if per.accumulator is not None:
            comps.append({"path": f"{base}.acc", "kind": "DigitalAccumulator",
                          "params": _params_dict(per.accumulator)})
            conns += [(f"{adc}.out", f"{base}.acc.in"), (f"{base}.acc.out", "chip.noc.in")]
    return _with_explicit(cfg, comps, conns)


def _same_instance(a: dict, b: dict) -> bool:
    """Same kind, geometry and validated parameters (``"5e-05"`` = ``5e-05``)."""
    if a["kind"] != b["kind"] or dict(a.get("args") or {}) != dict(b.get("args") or {}):
        return False
    try:
        params = kind_of(a["kind"]).Params
        return build_section(params, dict(a["params"])) == build_section(params, dict(b["params"]))
    except (KeyError, ConfigError):
        return False


def _with_explicit(cfg: AcceleratorConfig, comps: list, conns: list) -> dict:
    """The template's instances plus the explicit ``components``/``connections``.  An
    explicit entry may restate a template instance or connection exactly (so the
    output of ``hwsim validate --expand`` loads again); a differing one is an error
    (change the template through its ``tile.*`` keys)."""
    template = {c["path"]: c for c in comps}
    restated = set()
    for c in cfg.components:
        entry = {"path": c.path, "kind": c.kind, "params": dict(c.params), "args": dict(c.args)}
        if c.path in template and c.path not in restated:
            if not _same_instance(entry, template[c.path]):
                raise BuildError(f"component '{c.path}' is part of the tile template and "
                                 "differs from it; change it through the compact-form keys",
                                 file=cfg.file, key="components")
            restated.add(c.path)
            continue
        comps.append(entry)
    pending = set(conns)
    for c in cfg.connections:
        if tuple(c) in pending:
            pending.discard(tuple(c))
            continue
        conns.append(tuple(c))
    return {"components": comps, "connections": [list(c) for c in conns]}


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
                                  where=lambda i: {"file": cfg.file})
    tiles = []
    share = cfg.tile.periphery.tiles_per_adc_bank
    for i in range(cfg.tile.count):
        base = f"chip.tile{i}"
        tiles.append(TileGroup(
            index=i, array=f"{base}.array", dac=f"{base}.dac",
            adc=f"{base}.adc" if share == 1 else f"chip.adcbank{i // share}",
            pgen=f"{base}.pgen",
            chopper=f"{base}.chopper" if f"{base}.chopper" in comps else None,
            acc=f"{base}.acc" if f"{base}.acc" in comps else None))
    return Machine(cfg, comps, adjacency, clocks, tiles, "chip.digital", "chip.buffer",
                   "chip.noc", ledger)
