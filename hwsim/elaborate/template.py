"""Expansion of the tile template into the explicit form (layer 4).

The compact form of an accelerator (a ``tile`` with its ``periphery``, replicated
``tile.count`` times, plus the chip-level ``buffer``, ``interconnect`` and
``digital_unit``) is declared once, as the table :data:`~hwsim.config.blocks.BLOCKS`
and :data:`~hwsim.config.blocks.CONNECTIONS` (next to the blocks' params sections).
:func:`expand` turns a compact description into the explicit form (component
instances and ``[src.port, dst.port]`` connections, what ``hwsim validate --expand``
prints); :func:`~hwsim.elaborate.graph.build_machine` instantiates that explicit form
and :mod:`hwsim.elaborate.routes` derives every transaction route from its
connections.  Nothing else knows the template (the accelerator's clock checks read the
table too).

A block's **path is its config key**::

    chip.buffer  chip.interconnect  chip.digital_unit          (key of the chip section)
    chip.tile{i}                                               (the crossbar: key ``tile``)
    chip.tile{i}.dac  .adc  .pulse_generator  [.chopper]  [.accumulator]
                                                               (keys of tile.periphery)
    chip.adc{j}        ADC bank j, when tiles_per_adc_bank = k > 1 (tiles jk … jk+k−1)

Each kind of block (its ports, params, timing, actions) is declared once, in its
component module (:mod:`hwsim.components`, registered in :mod:`hwsim.core.registry`);
a row of the table only says where the template places an instance.  An **explicit-form**
accelerator (``components`` declaring a :class:`~hwsim.components.Tile`) is not expanded:
its components and connections are the machine.
"""
from __future__ import annotations

import dataclasses

import hwsim.components  # noqa: F401  (registers every kind)
from hwsim.components import Tile
from hwsim.config.accelerator import AcceleratorConfig
from hwsim.config.blocks import BLOCKS, BY_NAME, CONNECTIONS, Block
from hwsim.config.params import build_section
from hwsim.core import kind as kind_of
from hwsim.errors import ConfigError


def is_explicit(cfg: AcceleratorConfig) -> bool:
    """True when ``cfg.components`` declares the tiles itself (no template expansion)."""
    for c in cfg.components:
        try:
            if issubclass(kind_of(c.kind), Tile):
                return True
        except KeyError:
            continue
    return False


def _params_dict(block: Block, obj) -> dict:
    """The fields of the kind's Params section read from ``obj`` (``cfg.tile`` is a
    TileConfig that extends the Tile's params with the template's own keys)."""
    cls = kind_of(block.kind).Params
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)}


def expand(cfg: AcceleratorConfig) -> dict:
    """The explicit form: ``{"components": [...], "connections": [...]}``."""
    comps, conns = [], []
    if not is_explicit(cfg):
        present = {b.name for b in BLOCKS if b.params_of(cfg) is not None}
        wired = [c for c in CONNECTIONS if all(e.partition(".")[0] in present for e in c)]
        chip = [c for c in wired if all(BY_NAME[e.partition(".")[0]].scope == "chip" for e in c)]
        comps += [_instance(cfg, b, None) for b in BLOCKS if b.name in present
                  and b.scope == "chip"]
        conns += [(_end(cfg, s, None), _end(cfg, d, None)) for s, d in chip]
        for i in range(cfg.tile.count):
            comps += [_instance(cfg, b, i) for b in BLOCKS if b.name in present
                      and b.scope == "tile" and i % b.tiles_per_instance(cfg) == 0]
            conns += [(_end(cfg, s, i), _end(cfg, d, i)) for s, d in wired if (s, d) not in chip]
        conns = _unique(conns)
    for c in cfg.components:
        comps.append({"path": c.path, "kind": c.kind, "params": _user_params(c),
                      "args": dict(c.args)})
    conns += [tuple(c) for c in cfg.connections]
    return {"components": comps, "connections": [list(c) for c in conns]}


def _user_params(c) -> dict:
    """An explicit component's params as its kind reads them (validated, SI values), so
    that an expanded document expands to itself; an unknown kind or a bad value is left
    as written for :func:`~hwsim.elaborate.graph.build_machine` to report."""
    try:
        cls = kind_of(c.kind).Params
        sec = build_section(cls, dict(c.params), f"components.{c.path}.params")
    except (KeyError, ConfigError):
        return dict(c.params)
    return {f.name: getattr(sec, f.name) for f in dataclasses.fields(cls)}


def _instance(cfg: AcceleratorConfig, b: Block, tile: int | None) -> dict:
    return {"path": b.path(cfg, tile), "kind": b.kind,
            "params": _params_dict(b, b.params_of(cfg)),
            "args": b.args(cfg.tile) if b.args is not None else {}}


def _end(cfg: AcceleratorConfig, end: str, tile: int | None) -> str:
    name, _, port = end.partition(".")
    return f"{BY_NAME[name].path(cfg, tile)}.{port}"


def _unique(conns):
    """The template's connections in order, each once (tiles sharing an ADC bank name its
    output link to the interconnect once); the user's are kept as written, so a doubled
    one is still an error."""
    seen, out = set(), []
    for c in conns:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out
