"""Declared parameters of every hardware block (layer 1).

One section per component kind; the component classes in :mod:`hwsim.components`
use these as their ``Params``.  Defaults follow ``TECHNOLOGY.md``: 1 GHz digital
clock, ISAAC-style 8-bit SAR ADCs at 1.28 GS/s, 40 ns integration and 5 ns update
pulses (runtime model of Rasch et al., Nat. Commun. 15:7133, 2024).
"""
from __future__ import annotations

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


@section("interconnect", "On-chip interconnect between tiles, buffer and digital unit")
class InterconnectParams:
    bandwidth: float = param("32 B/cycle", unit="B/cycle", desc="bytes per cycle", lo=1)
    hop_latency: int = param(2, unit="cycles", desc="cycles per hop", lo=0)
    hops: int = param(1, desc="hops per transfer (average)", lo=1)
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
    read_voltage: float = param("0.2 V", unit="V", lo=0, desc="read voltage (prices read_cell)",
                                cite="CiMLoop cell model (TECHNOLOGY.md crossbar read row)")
    g_max: float = param("50 uS", unit="S", lo=0, desc="maximum device conductance (prices "
                         "read_cell)", cite="20 kOhm, the high end of the 1.3–20 kOhm range "
                         "in TECHNOLOGY.md")
    clock: str = param("digital", desc=_CLOCK)
