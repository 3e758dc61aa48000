"""Published figures as tests: every reference accelerator of configs/accelerators
reproduces the headline numbers of its paper from its YAML.

Each figure is computed from a run of hardware operations on the machine the YAML
builds (the operations API that training and trace replay drive; energy = ledger ×
the accelerator's technology table), never re-derived in the test; the docstrings give
the closed form the run must meet and the tolerance.  The README table "Reference
accelerators vs their papers" lists the same numbers.
"""
from pathlib import Path

import pytest

from hwsim.config.accelerator import load_accelerator
from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.sim.hardware import Hardware

ACC = Path(__file__).resolve().parents[2] / "configs" / "accelerators"
NS = 1000                                   # ticks (ps) per ns


def _machine(name, shape, roles=("W",), over=None, granularity=None):
    acc = load_accelerator(str(ACC / name), over)
    mapping = map_layers([("fc", *shape)], roles, acc.tile.rows, acc.tile.cols, acc.tile.count)
    return acc, Hardware(build_machine(acc), mapping, granularity=granularity)


def _joules(acc, hw) -> float:
    return estimate(hw.machine.ledger, TechnologyTable.load(acc.technology,
                                                            base_dir=str(ACC))).total


# --------------------------------------------------------------------------- HERMES
# Le Gallo et al., Nat. Electron. 6:680 (2023): 64 cores of 256×256 PCM, 8-bit MVMs;
# one-phase read 63.1 TOPS at 9.76 TOPS/W, four-phase read 16.1 TOPS at 2.48 TOPS/W.
HERMES = "hermes_core.yaml"
OPS_PER_MVM = 2 * 256 * 256                 # one multiply and one add per weight
SUM_GV2 = 256 * 256 / 6                     # Σ ĝ·v̂² at uniform ĝ ~ U(0,1), v̂ ~ U(−1,1)
STREAM = 10                                 # back-to-back MVMs of the throughput run


def _hermes(phases: int):
    """(seconds per MVM in a stream, joules per MVM, first-MVM latency) of one core."""
    acc, hw = _machine(HERMES, (256, 256), over={"tile.read_phases": phases})
    hw.forward("fc", 1, sum_gv2=SUM_GV2)
    first = hw.flush()
    hw.forward("fc", STREAM, sum_gv2=STREAM * SUM_GV2)
    stream = hw.flush()
    joules = _joules(acc, hw) / (STREAM + 1)
    return stream * 1e-12 / STREAM, joules, first


def test_hermes_one_phase_mvm_is_133ns_and_mvms_do_not_overlap():
    """One 8-bit MVM: PWM input setup 1 ns + integration 56 ns + CCO count of 255 LSBs ×
    300 ps = 76.5 ns → 133.5 ns (Le Gallo 2023: ≈133 ns).  The CCO converts the column's
    integrated charge in place (adc.sample_hold: false), so the next MVM integrates only
    after the conversion: 10 MVMs take 133.5 + 9 · 442 CCO cycles (187 for 56 ns + 255)
    = 133.5 + 9 · 132.6 ns, not the 822 ns a pipelined ADC would give."""
    per_mvm, _, first = _hermes(1)
    assert first == pytest.approx(133 * NS, rel=0.01)
    assert per_mvm == pytest.approx(133e-9, rel=0.01)


@pytest.mark.parametrize("phases, tops, tops_per_w", [(1, 63.1, 9.76), (4, 16.1, 2.48)])
def test_hermes_peak_throughput_and_efficiency_within_10_percent(phases, tops, tops_per_w):
    """Peak throughput = 64 cores · 2·256² ops / t_MVM; efficiency = 2·256² ops / E_MVM.

    t_MVM (streamed) = P · (t_int + 255 · 300 ps) = P · 132.6 ns (P read phases, each an
    integration followed by its in-place CCO conversion) → 63.3 TOPS (P = 1; paper 63.1,
    +0.3 %) and 15.8 TOPS (P = 4; paper 16.1, −1.9 %).

    E_MVM = P · (read 10.79 nJ + 256 CCO conversions · 5.12 pJ + 256 PWM row drivers ·
    0.4 pJ + Σĝv̂² · V²·g_max·t_int = 65536/6 · 0.112 pJ) = P · 13.43 nJ.  The 10.79 nJ
    per read is the part of the measured one-phase figure the itemised blocks do not
    explain (configs/technology/hermes_cco.yaml derives it from 9.76 TOPS/W), so the
    one-phase efficiency (9.76) is a calibration and the four-phase one a prediction:
    2.44 TOPS/W against the paper's 2.48 (−1.6 %), i.e. the chip's power is the same
    in both modes (6.47 W and 6.49 W), as the model says."""
    per_mvm, joules, _ = _hermes(phases)
    cores = load_accelerator(str(ACC / HERMES)).tile.count
    assert cores == 64
    assert cores * OPS_PER_MVM / per_mvm / 1e12 == pytest.approx(tops, rel=0.10)
    assert OPS_PER_MVM / joules / 1e12 == pytest.approx(tops_per_w, rel=0.10)
    # tighter than the stated tolerance today (see the docstring's percentages)
    assert cores * OPS_PER_MVM / per_mvm / 1e12 == pytest.approx(tops, rel=0.025)
    assert OPS_PER_MVM / joules / 1e12 == pytest.approx(tops_per_w, rel=0.02)


# ---------------------------------------------------------------------------- ISAAC
# Shafiee et al., ISAAC, ISCA 2016, Table I (32 nm): 128×128 crossbars read every
# 100 ns; one 8-bit 1.28 GS/s SAR ADC per crossbar digitises its 128 columns within the
# read cycle (ADC: 8 per IMA, 16 mW, 0.0096 mm² in all; crossbars: 8 per IMA, 0.0002 mm²).
ISAAC = "isaac_tile.yaml"


def test_hermes_prices_its_pcm_pulses_as_pcm_sets_not_reram():
    """The HERMES-like core's device is PCM (its YAML: ``device: pcm``); a training pulse
    is a SET of the G⁺/G⁻ pair, priced at the PCM (GST) SET of the MLP+NeuroSim V3.0
    device table, 0.7 V for 6 µs ≈ 0.6 nJ (TECHNOLOGY.md, "Update (write) pulses"), not
    the ReRAM 1.6 V / 50 ns ≈ 1.3 pJ of the ISAAC table it extends."""
    acc = load_accelerator(str(ACC / HERMES))
    assert acc.device == "pcm"
    hermes = TechnologyTable.load(acc.technology, base_dir=str(ACC))
    isaac = TechnologyTable.load("32nm_isaac")
    assert hermes.price("Tile", "pulse") == pytest.approx(0.6e-9)
    assert isaac.price("Tile", "pulse") == pytest.approx(1.3e-12)


def test_isaac_crossbar_reads_stream_at_the_100ns_read_cycle():
    """n reads: DAC 1 ns + 100 ns integration + 128 conversions of 1/1.28 GHz = 100 ns,
    then one read per max(100 ns read, 128 · 0.78125 ns ADC) = 100 ns (ISAAC's balanced
    pipeline; sample-and-hold between array and ADC).  Tolerance 1 % (clock edges)."""
    _, hw = _machine(ISAAC, (128, 128))
    hw.forward("fc", 1)
    assert hw.flush() == pytest.approx((1 + 100 + 100) * NS, rel=0.01)
    hw.forward("fc", 11)
    assert hw.flush() == pytest.approx((1 + 100 + 100 + 10 * 100) * NS, rel=0.01)


def test_isaac_adc_power_and_areas_match_table_1():
    """ADC power per crossbar = 128 conversions · 1.67 pJ per 100 ns read = 2.14 mW,
    against Table I's 16 mW / 8 ADCs = 2 mW (+7 %; the table row is Accelergy's
    resolution-scaled 8-bit SAR, 1.67 pJ, where ISAAC's own figure is 1.5625 pJ);
    ADC area 1200 µm² per ADC (Table I: 0.0096 mm² / 8) and crossbar area 25 µm² per
    128×128 array (0.0002 mm² / 8), within 10 %."""
    acc, hw = _machine(ISAAC, (128, 128))
    hw.forward("fc", 1000)
    ticks = hw.flush()
    adc = estimate(hw.machine.ledger, TechnologyTable.load(
        acc.technology, base_dir=str(ACC))).by_path()["chip.tile0.adc"]
    assert adc / (ticks * 1e-12) == pytest.approx(16e-3 / 8, rel=0.10)
    area = area_report(hw.machine.components, TechnologyTable.load(acc.technology,
                                                                   base_dir=str(ACC)))
    by_path = {r.path: r.area for r in area.rows}
    assert by_path["chip.tile0.adc"] == pytest.approx(0.0096e-6 / 8, rel=0.10)
    assert by_path["chip.tile0"] == pytest.approx(0.0002e-6 / 8, rel=0.10)


# ------------------------------------------------------------------ Rasch et al. 2024
# Runtime model of Rasch et al., Nat. Commun. 15:7133 (2024), Methods, N = 512
# (TECHNOLOGY.md): MVM ≈ 40 ns, update pulse 5 ns, analog SGD update ≈ 166 ns,
# two-array (Tiki-Taka family) update ≈ 372 ns.
RASCH = "rasch2024_runtime.yaml"


@pytest.mark.parametrize("granularity", ["burst", "item"])   # burst = item on uniform streams
def test_rasch2024_runtime_model(granularity):
    """MVM: 39 ns integration + one 1 ns conversion per column = 40 ns.  SGD update of
    BL = 32: 5.9 ns setup (6 cycles) + 32 slots · 5 ns = 166 ns; one more slot costs
    exactly one pulse width (5 ns).  Two-array update: 166 ns on A + a 40 ns column read
    + a 166 ns transfer update onto C = 372 ns.  Tolerance 1 %."""
    _, hw = _machine(RASCH, (512, 512), roles=("A", "C"), granularity=granularity)
    hw.forward("fc", 1, role="C")
    assert hw.flush() == pytest.approx(40 * NS, rel=0.01)
    hw.update("fc", 32, role="A", pulses=1000, row_slots=100, col_slots=100)
    sgd = hw.flush()
    assert sgd == pytest.approx(166 * NS, rel=0.01)
    hw.update("fc", 33, role="A", pulses=1000, row_slots=100, col_slots=100)
    assert hw.flush() - sgd == 5 * NS
    hw.update("fc", 32, role="A", pulses=1000, row_slots=100, col_slots=100)
    hw.read_column("fc", 1, role="A", col=0)
    hw.update("fc", 32, role="C", pulses=10, row_slots=10, col_slots=1, phase="transfer")
    assert hw.flush() == pytest.approx(372 * NS, rel=0.01)


# ---------------------------------------------------------------------------- RPU
# Gokmen & Vlasov, Front. Neurosci. 10:333 (2016): 4096×4096 RPU tile, 80 ns
# forward/backward integration, stochastic update in BL = 10 pulse slots of 1 ns.
RPU = "rpu_tile.yaml"


def test_rpu_update_is_bl_slots_of_one_ns_and_mvm_integrates_80ns():
    """Update of BL = 10: 5.9 ns setup (6 cycles) + 10 · 1 ns = 16 ns; 100 slots: 106 ns
    (the pulse generator streams at the tile's 1 ns pulse width, not at its 5 ns
    default).  Forward MVM: DAC 1 ns + 80 ns + 16 columns per ADC at 1.28 GS/s (12.5 ns)
    = 93.5 ns, of which the paper's 80 ns is the integration.  Exact to the tick but
    for the ADC clock edge (1 %)."""
    _, hw = _machine(RPU, (4096, 4096))
    hw.update("fc", 10, pulses=100, row_slots=100, col_slots=100)
    assert hw.flush() == (6 + 10) * NS
    hw.update("fc", 100, pulses=100, row_slots=100, col_slots=100)
    assert hw.flush() == (6 + 100) * NS
    hw.forward("fc", 1)
    assert hw.flush() == pytest.approx((1 + 80 + 12.5) * NS, rel=0.01)


# ------------------------------------------------------------- the design tiles
# analog_tile, cttv2_tile, cttv2_tile_32 are not a published chip: they take the update
# constants of the Rasch et al. 2024 runtime model and ISAAC-style periphery.
@pytest.mark.parametrize("name", ["analog_tile.yaml", "cttv2_tile.yaml", "cttv2_tile_32.yaml"])
def test_design_tiles_use_the_rasch2024_update_and_say_what_their_mvm_costs(name):
    """Update of 32 slots: 6 + 32 · 5 ns = 166 ns, Rasch et al. 2024's analog SGD update
    (1 %).  MVM: their periphery is ISAAC's, not the runtime model's: DAC 2 ns + 40 ns
    integration + 8 columns per ADC at 1.28 GS/s (6.25 ns) = 48.25 ns, 21 % above the
    runtime model's 40 ns (the README table says so); within 1 ns (the crossing into the
    ADC clock aligns to its next edge, +0.6 ns here)."""
    acc = load_accelerator(str(ACC / name))
    shape = (acc.tile.rows, acc.tile.cols)
    _, hw = _machine(name, shape)
    hw.update("fc", 32, pulses=100, row_slots=100, col_slots=100)
    assert hw.flush() == pytest.approx(166 * NS, rel=0.01)
    hw.forward("fc", 1)
    assert hw.flush() == pytest.approx(48.25 * NS, abs=1 * NS)
