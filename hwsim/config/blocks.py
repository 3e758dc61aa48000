"""Declared parameters of every hardware block, and the tile template (layer 1).

One section per component kind; the component classes in :mod:`hwsim.components`
use these as their ``Params``.  :data:`BLOCKS` and :data:`CONNECTIONS` are the one
table of the compact form's tile template (see the section at the end).  Defaults follow ``TECHNOLOGY.md``: 1 GHz digital
clock, ISAAC-style 8-bit SAR ADCs at 1.28 GS/s, 40 ns integration and 5 ns update
pulses (runtime model of Rasch et al., Nat. Commun. 15:7133, 2024).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hwsim.config.params import param, section

_CLOCK = "clock domain this block runs in (a key of `clocks`)"


@section("dac", "DAC bank driving the input lines of a tile")
class DACParams:
    bits: int = param(7, desc="input resolution (2^bits−1 symmetric levels: ≥ 2 bits)", lo=2,
                      hi=16, cite="PHYSICS.md §3 inp_res")
    encoding: str = param("amplitude", desc="amplitude levels or pulse-width modulation",
                          choices=("amplitude", "pwm"))
    count: int = param(0, desc="DACs in the bank; 0 = one per driven line", lo=0)
    latency: int = param(1, unit="cycles", desc="cycles per conversion round", lo=0)
    ii: int = param(1, unit="cycles", desc="initiation interval per conversion round", lo=1)
    clock: str = param("digital", desc=_CLOCK)


@section("adc", "ADC bank converting the output lines of a tile")
class ADCParams:
    bits: int = param(9, desc="output resolution (2^bits−1 symmetric levels: ≥ 2 bits)", lo=2,
                      hi=16, cite="PHYSICS.md §3 out_res")
    type: str = param("sar", desc="converter architecture (selects technology-table row)",
                      choices=("sar", "flash", "cco"))
    columns_per_adc: int = param(8, desc="lines multiplexed onto one ADC (k)", lo=1, hi=4096,
                                 cite="ISAAC (Shafiee et al., ISCA 2016)")
    latency: int = param(1, unit="cycles", desc="cycles per conversion", lo=1)
    ii: int = param(1, unit="cycles", desc="cycles between conversions of one ADC", lo=1)
    sample_hold: bool = param(True, desc="a sample-and-hold decouples the array from the "
                              "conversion, so the next integration overlaps it (ISAAC); "
                              "false: the converter works on the integrated column charge "
                              "itself, so the array cannot integrate the next vector until "
                              "the conversion ends (HERMES CCO columns)",
                              cite="Shafiee et al., ISCA 2016; Le Gallo et al., Nat. Electron. "
                                   "6:680 (2023): 63.1 TOPS = one 133 ns MVM per core, no overlap")
    clock: str = param("adc", desc=_CLOCK)


@section("pulse_generator", "Stochastic pulse-train generators on rows and columns")
class PulseGeneratorParams:
    rng: str = param("lfsr", desc="random source for the Bernoulli trains",
                     choices=("lfsr", "trng", "deterministic"))
    setup_time: float = param("5.9 ns", unit="s", lo=0,
                              desc="input preprocessing before the pulse slots (x_m, d_m, "
                                   "probabilities)", cite="Rasch et al. 2024 runtime model")
    clock: str = param("digital", desc=_CLOCK)


@section("chopper", "Sign-flip (chopper) circuits at the tile inputs/outputs")
class ChopperParams:
    inputs: bool = param(True, desc="chopper on the input (column) lines")
    outputs: bool = param(False, desc="chopper on the output (row) lines")
    latency: int = param(1, unit="cycles", desc="cycles to apply a flip", lo=0)
    clock: str = param("digital", desc=_CLOCK)


@section("accumulator", "Digital accumulator (TTv2/c-TTv2/AGAD buffer H, mixed-precision χ)")
class AccumulatorParams:
    lanes: int = param(64, desc="elements added per cycle", lo=1)
    bits: int = param(16, desc="word width", lo=1, hi=64)
    latency: int = param(1, unit="cycles", desc="add/compare pipeline depth", lo=0)
    clock: str = param("digital", desc=_CLOCK)


@section("digital_unit", "Digital unit: activations, loss gradient, partial sums, SBPCA")
class DigitalUnitParams:
    lanes: int = param(256, desc="operations per cycle", lo=1)
    latency: int = param(2, unit="cycles", desc="pipeline depth", lo=0)
    bits: int = param(16, desc="datapath width", lo=1, hi=64)
    clock: str = param("digital", desc=_CLOCK)


@section("buffer", "On-chip SRAM/eDRAM buffer")
class BufferParams:
    capacity: float = param("256 KiB", unit="B", desc="capacity", lo=1)
    bandwidth: float = param("64 B/cycle", unit="B/cycle", desc="bytes per cycle", lo=1)
    latency: int = param(1, unit="cycles", desc="access latency", lo=0)
    technology: str = param("sram", desc="memory type (selects technology-table row)",
                            choices=("sram", "edram"))
    clock: str = param("digital", desc=_CLOCK)


@section("line_buffer", "Line buffer for the im2col patch re-reads of conv layers")
class LineBufferParams:
    capacity: float = param("8 KiB", unit="B", lo=1,
                            desc="capacity; a conv layer whose (k_h − 1) input rows fit reads "
                                 "its input map once into it and its k_h·k_w patch re-reads "
                                 "from it (hwsim/training/dataflow.py)",
                            cite="line-buffered stencils: a k-row window keeps k−1 rows of "
                                 "the image (Hegarty et al., Darkroom, SIGGRAPH 2014)")
    bandwidth: float = param("64 B/cycle", unit="B/cycle", desc="bytes per cycle", lo=1)
    latency: int = param(1, unit="cycles", desc="access latency", lo=0)
    technology: str = param("sram", desc="memory type (selects technology-table row)",
                            choices=("sram",))
    clock: str = param("digital", desc=_CLOCK)


@section("interconnect", "On-chip interconnect between tiles, buffer and digital unit")
class InterconnectParams:
    bandwidth: float = param("32 B/cycle", unit="B/cycle", desc="bytes per cycle", lo=1)
    hop_latency: int = param(2, unit="cycles", desc="cycles per hop", lo=0)
    hops: int = param(1, desc="hops per transfer (average)", lo=1)
    flit_bytes: int = param(32, unit="B", desc="flit size (one router action per flit and "
                            "hop)", lo=1, cite="ISAAC 256-bit flit (Shafiee et al., ISCA 2016)")
    clock: str = param("digital", desc=_CLOCK)


@section("dram", "Off-chip DRAM holding what does not fit in the buffer")
class DRAMParams:
    technology: str = param("lpddr4", desc="DRAM type (selects technology-table row)",
                            choices=("lpddr4", "hbm2", "gddr5"))
    bandwidth: float = param("12.8 GB/s", unit="B/s", lo=1e6,
                             desc="channel bandwidth in bytes per second",
                             cite="LPDDR4-3200 x32 channel: 3200 MT/s x 4 B (JEDEC JESD209-4); "
                                  "HBM2 1.9 TB/s = 15.2 Tb/s in DNN+NeuroSim V2.1 DRAM.cpp")
    latency: float = param("50 ns", unit="s", lo=0,
                           desc="access latency (row activate + column read)",
                           cite="derived: LPDDR4 tRCD 18 ns + RL 28 tCK at 1600 MHz (17.5 ns) "
                                "+ burst and controller, JEDEC JESD209-4")
    clock: str = param("digital", desc=_CLOCK)


@section("tile", "Crossbar array")
class TileParams:
    rows: int = param(256, desc="rows of the crossbar (outputs M of a layer)", lo=1, hi=65536)
    cols: int = param(256, desc="columns of the crossbar (inputs N of a layer)", lo=1, hi=65536)
    integration_time: float = param("40 ns", unit="s", lo=0, lo_open=True,
                                    desc="time of one analog MVM (integration)",
                                    cite="Rasch et al. 2024 runtime model")
    pulse_width: float = param("5 ns", unit="s", lo=0, lo_open=True,
                               desc="duration of one update pulse slot",
                               cite="Rasch et al. 2024 runtime model")
    read_phases: int = param(1, desc="sequential integrate-and-convert phases of one MVM "
                             "(HERMES one-phase / four-phase read modes); costs only: the "
                             "numbers of an MVM are the same in every mode", lo=1, hi=16,
                             cite="Le Gallo et al., Nat. Electron. 6:680 (2023)")
    read_voltage: float = param("0.2 V", unit="V", lo=0, desc="read voltage (prices read_cell)",
                                cite="CiMLoop cell model (TECHNOLOGY.md crossbar read row)")
    g_max: float = param("50 uS", unit="S", lo=0, desc="maximum device conductance (prices "
                         "read_cell)", cite="20 kOhm, the high end of the 1.3–20 kOhm range "
                         "in TECHNOLOGY.md")
    read_timing: str = param("fixed", choices=("fixed", "rc"),
                             desc="read time of an MVM: 'fixed' = integration_time (an "
                                  "explicit override); 'rc' = settling of the lines from their "
                                  "wire RC (tile.py)")
    wire_resistance: float = param("2.967 Ohm", unit="Ohm", lo=0,
                                   desc="wire resistance of one cell's segment of a line",
                                   cite="DNN+NeuroSim V2.1 Param.cpp, 32 nm wire: rho 4.51e-8 "
                                        "Ohm·m / (32 nm)² / AR 1.9 = 23.2 Ohm/um x 1T1R cell "
                                        "pitch 4F = 128 nm")
    wire_capacitance: float = param("25.6 aF", unit="F", lo=0,
                                    desc="wire capacitance of one cell's segment of a line",
                                    cite="DNN+NeuroSim V2.1 (HTree/Bus.cpp) 0.2 fF/um x 128 nm")
    settling_taus: float = param(7.0, lo=0, lo_open=True,
                                 desc="time constants a line needs to settle ('rc' timing)",
                                 cite="ln(2^(b+1)) = 6.9 for a 9-bit read to half an LSB")
    clock: str = param("digital", desc=_CLOCK)


# ------------------------------------------------------------------ the tile template
# One table: which blocks the compact form places, where their params sit in the
# accelerator file and what their instances are called (a path is its config key),
# and how they connect.  hwsim.elaborate.template expands it; the accelerator's clock
# checks read it; hwsim.elaborate.routes finds the routes in the connections it makes.

@dataclass(frozen=True)
class Block:
    """One row of the template: an instance of ``kind`` with the params at ``section``.

    A block of the tile periphery (``section`` ``tile.periphery.<name>``) also declares
    its config key there: ``params`` (its section class), ``desc`` and ``optional`` (the
    key defaults to null, "omit for none"; else to the section's defaults) — the
    ``periphery`` section is made from these rows (:func:`periphery_section`)."""
    name: str                      # config key = last element of the path
    kind: str                      # component kind (hwsim.core.registry)
    section: str                   # dotted attribute of the AcceleratorConfig with the params
    scope: str = "tile"            # "chip": one per chip; "tile": one per tile (or bank)
    args: Callable | None = None   # cfg.tile -> geometry arguments of the instance
    share: Callable | None = None  # cfg -> tiles served by one instance (an ADC bank)
    params: type | None = None     # periphery blocks: the params section of the config key
    desc: str = ""                 # periphery blocks: description of the config key
    optional: bool = False         # periphery blocks: the key defaults to null (no block)

    def params_of(self, cfg):
        """The block's params section in ``cfg``, or None when the block is omitted."""
        obj = cfg
        for part in self.section.split("."):
            obj = getattr(obj, part)
        return obj

    def tiles_per_instance(self, cfg) -> int:
        return self.share(cfg) if self.share is not None else 1

    def path(self, cfg, tile: int | None = None) -> str:
        """Path of the instance serving ``tile`` (chip blocks: ``tile`` is ignored)."""
        if self.scope == "chip":
            return f"chip.{self.name}"
        if self.kind == "Tile":
            return f"chip.tile{tile}"
        k = self.tiles_per_instance(cfg)
        return f"chip.tile{tile}.{self.name}" if k == 1 else f"chip.{self.name}{tile // k}"


def _seconds(x: float) -> str:
    """A duration as an exact quantity string ('5e-09 s'): geometry arguments are written
    out as they are (``hwsim validate --expand``), and YAML reads a bare 5e-09 as text."""
    return f"{x!r} s"


def _lines_in(t) -> dict:
    return {"lines": t.cols, "phases": t.read_phases}


def _lines_out(t) -> dict:
    return {"lines": t.rows, "phases": t.read_phases, "integration_time": _seconds(t.integration_time)}


def _rows_cols(t) -> dict:
    return {"rows": t.rows, "cols": t.cols}


def _pulse_lines(t) -> dict:
    """The generator's lines and the tile's pulse width (its slot length)."""
    return {"rows": t.rows, "cols": t.cols, "pulse_width": _seconds(t.pulse_width)}


#: The template, in expansion order: chip blocks, then each tile's blocks.
BLOCKS: tuple[Block, ...] = (
    Block("buffer", "Buffer", "buffer", scope="chip"),
    Block("interconnect", "Interconnect", "interconnect", scope="chip"),
    Block("digital_unit", "DigitalUnit", "digital_unit", scope="chip"),
    Block("dram", "DRAM", "dram", scope="chip"),
    Block("line_buffer", "LineBuffer", "line_buffer", scope="chip"),
    Block("dac", "DAC", "tile.periphery.dac", args=_lines_in, params=DACParams,
          desc="DAC bank"),
    Block("tile", "Tile", "tile"),
    Block("pulse_generator", "PulseGenerator", "tile.periphery.pulse_generator",
          args=_pulse_lines, params=PulseGeneratorParams, desc="update pulse generators"),
    Block("adc", "ADC", "tile.periphery.adc", args=_lines_out,
          share=lambda cfg: cfg.tile.periphery.tiles_per_adc_bank, params=ADCParams,
          desc="ADC bank"),
    Block("chopper", "Chopper", "tile.periphery.chopper", args=_rows_cols,
          params=ChopperParams, desc="chopper circuits (c-TTv2/AGAD); omit for none",
          optional=True),
    Block("accumulator", "DigitalAccumulator", "tile.periphery.accumulator",
          params=AccumulatorParams, desc="per-tile digital accumulator (TTv2 H buffer, "
          "mixed-precision χ); omit for none", optional=True),
)

#: ``(block.port, block.port)`` by block name; a connection to an omitted block is dropped.
#: Data flow: buffer -> interconnect -> digital unit / DAC / pulse generator; buffer <->
#: DRAM (spills); interconnect -> line buffer -> DAC (conv patches); DAC -> tile
#: -> ADC -> interconnect (and -> accumulator -> interconnect); pulse generator -> tile
#: pulses; chopper -> the tile's sign-control lines.
CONNECTIONS: tuple[tuple[str, str], ...] = (
    ("buffer.out", "interconnect.in"),
    ("interconnect.out", "digital_unit.in"),
    ("digital_unit.out", "buffer.in"),
    ("buffer.out", "dram.in"),
    ("dram.out", "buffer.in"),
    ("interconnect.out", "line_buffer.in"),
    ("line_buffer.out", "dac.in"),
    ("interconnect.out", "dac.in"),
    ("dac.out", "tile.in"),
    ("tile.out", "adc.in"),
    ("adc.out", "interconnect.in"),
    ("interconnect.out", "pulse_generator.in"),
    ("pulse_generator.pulses", "tile.pulses"),
    ("chopper.lines", "tile.signs"),
    ("adc.out", "accumulator.in"),
    ("accumulator.out", "interconnect.in"),
)

BY_NAME = {b.name: b for b in BLOCKS}


#: the order in which `describe`, `schema` and `--expand` list the first periphery keys
#: (as they always have); keys of other periphery blocks follow in table order
_KEY_ORDER = ("dac", "adc", "pulse_generator", "chopper", "accumulator")
_PERIPHERY = "tile.periphery."


def periphery_section(blocks=BLOCKS, *, name: str = "PeripheryConfig",
                      module: str = __name__, **extra) -> type:
    """The ``periphery`` section made from the periphery rows of ``blocks`` (one key per
    block: its ``params`` section, defaulting to its defaults, or to null when
    ``optional``), in the order of :data:`_KEY_ORDER` then of the table, followed by
    ``extra`` keys ``name=(type, param(...))`` of the periphery itself.  A block kind
    added to the tile template is one row here; no config field is written by hand."""
    rows = [b for b in blocks if b.section.startswith(_PERIPHERY)]
    order = {k: i for i, k in enumerate(_KEY_ORDER)}
    rows.sort(key=lambda b: order.get(b.name, len(order)))    # stable: then table order
    annotations, ns = {}, {}
    for b in rows:
        key = b.section[len(_PERIPHERY):]
        if b.params is None or "." in key:
            raise ValueError(f"periphery block '{b.name}' needs params and a key "
                             f"'{_PERIPHERY}<name>' (got section '{b.section}')")
        if b.optional:
            annotations[key] = b.params | None
            ns[key] = param(None, desc=b.desc)
        else:
            annotations[key] = b.params
            ns[key] = param(factory=b.params, desc=b.desc)
    for key, (typ, spec) in extra.items():
        annotations[key], ns[key] = typ, spec
    cls = type(name, (), {"__annotations__": annotations, "__module__": module,
                          "__qualname__": name, **ns})
    return section("periphery", "Periphery of every tile")(cls)
