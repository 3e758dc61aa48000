"""The accelerator description (layer 1): YAML -> frozen :class:`AcceleratorConfig`.

Two forms, one model underneath:

* **compact** — a ``tile`` template with its ``periphery`` replicated ``count``
  times, plus chip-level ``digital_unit``, ``buffer`` and ``interconnect``;
* **explicit** — ``components`` (path, kind, params) and ``connections``
  (``[src.port, dst.port]`` pairs).

:func:`hwsim.elaborate.template.expand` turns the compact form into the explicit one
(``hwsim validate --expand`` prints it) from the template table of
:mod:`hwsim.config.blocks`, and the elaborate layer only ever builds the explicit form.
When ``components`` declares a Tile the description *is* the explicit form (no template
expansion); ``tile`` then still gives the geometry and numerics the tiles must match.
"""
from __future__ import annotations

import os

from hwsim import units
from hwsim.config.blocks import (BLOCKS, BufferParams, DigitalUnitParams, DRAMParams,
                                 InterconnectParams, LineBufferParams, TileParams, periphery_section)
from hwsim.config.update import UpdateConfig
from hwsim.config.params import ParamSpec, build_section, param, range_problem, replace, section
from hwsim.config.periphery import MVMConfig
from hwsim.config.validate import check_references
from hwsim.config.yamlio import file_of, line_of, load_yaml
from hwsim.errors import ConfigError, UnitError

SCHEMA_VERSION = 1
#: The range of a clock frequency (the values of ``clocks``).
CLOCK_HZ = ParamSpec(desc="clock frequency", unit="Hz", lo=1e3, hi=1e12,
                     why="the engine counts ticks of 1 ps, so a clock above 1 THz has a "
                         "period under one tick; one under 1 kHz is not an on-chip clock")


#: The periphery of every tile: one key per periphery block of the tile template (made
#: from its rows in :data:`hwsim.config.blocks.BLOCKS`), then the periphery's own keys.
PeripheryConfig = periphery_section(
    BLOCKS, module=__name__,
    tiles_per_adc_bank=(int, param(1, desc="tiles sharing one ADC bank (contention)", lo=1)))


@section("tile", "Crossbar tile template (compact form)")
class TileConfig(TileParams):
    count: int = param(16, desc="number of tiles on the chip", lo=1, hi=1 << 16)
    periphery: PeripheryConfig = param(factory=PeripheryConfig, desc="periphery of each tile")
    forward: MVMConfig = param(factory=MVMConfig, desc="numerics of the forward MVM (noise, bounds)")
    backward: MVMConfig = param(factory=MVMConfig, desc="numerics of the transposed MVM")
    update: UpdateConfig = param(factory=UpdateConfig, desc="pulsed update (BL, management)")

    def __post_build__(self, data, path, ctx):
        for d in ("forward", "backward"):
            sub = data.get(d) or {}
            for key, owner in (("inp_res_bits", "periphery.dac.bits"),
                               ("out_res_bits", "periphery.adc.bits")):
                if key in sub:
                    raise ConfigError(f"the resolution is a property of the converter: set "
                                      f"{path}.{owner} instead", file=file_of(sub),
                                      line=line_of(sub, key), key=f"{path}.{d}.{key}")

    def mvm_config(self, direction: str) -> MVMConfig:
        """The numerics of one MVM direction, with the DAC/ADC resolutions of the periphery."""
        base = self.forward if direction == "forward" else self.backward
        return replace(base, inp_res_bits=self.periphery.dac.bits,
                       out_res_bits=self.periphery.adc.bits)


@section("engine", "Simulation engine settings")
class EngineConfig:
    granularity: str = param("burst", desc="one event per transaction (burst) or per item",
                             choices=("burst", "item"))
    schedule: str = param("sequential", desc="sequential ops, or layer-pipelined: each op "
                          "streams behind the previous one (burst mode)",
                          choices=("sequential", "pipelined"))
    cache: bool = param(True, desc="reuse the simulated timing of an op met again in the same "
                        "machine state (exact; off when a timeline is recorded)")


@section("component", "One component instance (explicit form)")
class ComponentConfig:
    path: str = param(desc="dotted path, e.g. chip.tile0.adc")
    kind: str = param(desc="component kind, e.g. ADC (see `hwsim describe`)")
    params: dict = param(factory=dict, desc="parameters of the kind")
    args: dict = param(factory=dict, desc="geometry arguments of the kind, e.g. {lines: 256} for "
                       "a DAC/ADC bank, {rows: 256, cols: 256} for a pulse generator")


@section("accelerator", "An analog in-memory training accelerator")
class AcceleratorConfig:
    schema_version: int = param(SCHEMA_VERSION, desc="format version of this file", lo=1, hi=1)
    name: str = param("accelerator", desc="name used in reports")
    source: str = param("", desc="where the design comes from (citation)")
    technology: str = param("32nm_isaac", desc="technology table: name in configs/technology or path")
    clocks: dict = param(factory=lambda: {"digital": "1 GHz", "adc": "1.28 GHz"},
                         desc="clock domains: name -> frequency (e.g. '1 GHz')")
    device: str | dict = param("reram_softbounds", desc="device model: preset name, path or mapping")
    tile: TileConfig = param(factory=TileConfig, desc="tile template (compact form)")
    digital_unit: DigitalUnitParams = param(factory=DigitalUnitParams, desc="chip digital unit")
    buffer: BufferParams = param(factory=BufferParams, desc="chip buffer")
    interconnect: InterconnectParams = param(factory=InterconnectParams, desc="chip interconnect")
    dram: DRAMParams | None = param(factory=DRAMParams, desc="off-chip DRAM (spills of the "
                                    "buffer); null for none")
    line_buffer: LineBufferParams | None = param(None, desc="line buffer serving the im2col "
                                                 "patch re-reads of conv layers; null (the "
                                                 "default) for none: patches are re-read "
                                                 "from the buffer/DRAM")
    engine: EngineConfig = param(factory=EngineConfig, desc="engine settings")
    components: tuple[ComponentConfig, ...] = param((), desc="explicit-form extra components")
    connections: tuple[tuple[str, ...], ...] = param((), desc="explicit-form [src.port, dst.port] pairs")
    file: str = param("", desc="(set by the loader) file this description was read from")

    def __post_build__(self, data, path, ctx):
        for name, freq in self.clocks.items():
            try:
                hz = units.parse(freq, "Hz")
            except UnitError as exc:
                raise ConfigError(exc.message, file=file_of(data),
                                  line=line_of(data.get("clocks", {}), name),
                                  key=f"clocks.{name}") from None
            problem = range_problem(hz, CLOCK_HZ)
            if problem:
                raise ConfigError(f"frequency {problem}", file=file_of(data),
                                  line=line_of(data.get("clocks", {}), name), key=f"clocks.{name}")
        blocks = [(b.section, b.params_of(self)) for b in BLOCKS]
        blocks = [(key, p.clock) for key, p in blocks if p is not None]
        for key, clk in blocks:
            if clk not in self.clocks:
                node = data
                for part in key.split("."):
                    node = node.get(part, node) if isinstance(node, dict) else node
                raise ConfigError(f"unknown clock '{clk}' (clocks: {', '.join(self.clocks)})",
                                  file=file_of(data), line=line_of(node, "clock"),
                                  key=f"{key}.clock")
        for i, conn in enumerate(self.connections):
            if len(conn) != 2:
                raise ConfigError("a connection is a pair [src.port, dst.port]", file=file_of(data),
                                  line=line_of(data.get("connections", []), i),
                                  key=f"connections[{i}]")

    def clock_hz(self) -> dict:
        return {k: units.parse(v, "Hz") for k, v in self.clocks.items()}


def load_accelerator(path: str, overrides: dict | None = None) -> AcceleratorConfig:
    """Read, override (``--set``) and validate an accelerator file."""
    from hwsim.config.overrides import apply_overrides
    data = load_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides, path)
    return accelerator_from_data(data, path)


def accelerator_from_data(data, path: str = "<accelerator>") -> AcceleratorConfig:
    if not isinstance(data, dict):
        raise ConfigError("an accelerator file must be a mapping", file=path)
    cfg = build_section(AcceleratorConfig, data, "", None)
    check_references(cfg, data, path)
    return replace(cfg, file=os.path.abspath(path) if os.path.exists(path) else path)
