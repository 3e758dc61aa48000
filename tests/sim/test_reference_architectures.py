"""Every shipped accelerator builds, runs every op kind it supports, and is fully priced
(energy conservation: total = Σ count × price); published timing anchors hold."""
import math
from pathlib import Path

import pytest

from hwsim.components import ADC, PulseGenerator
from hwsim.core import ActionLedger, Clock
from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.config.accelerator import load_accelerator
from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.errors import SimulationError
from hwsim.sim.hardware import Hardware

ROOT = Path(__file__).resolve().parents[2]
ACCS = sorted((ROOT / "configs" / "accelerators").glob("*.yaml"))


def _hw(path, shape=(200, 300)):
    acc = load_accelerator(str(path))
    mapping = map_layers([("fc", *shape)], ("A", "C"), acc.tile.rows, acc.tile.cols,
                         acc.tile.count)
    return acc, Hardware(build_machine(acc), mapping)


@pytest.mark.parametrize("path", ACCS, ids=[p.stem for p in ACCS])
def test_reference_architecture_runs_and_is_priced(path):
    acc, hw = _hw(path)
    hw.forward("fc", 10, role="C", sum_gv2=123.0)
    hw.backward("fc", 10, role="C", sum_gv2=45.0)
    hw.update("fc", 40, role="A", pulses=5000, row_slots=800, col_slots=900, samples=10)
    hw.read_column("fc", 1, role="A", col=3)
    hw.accumulate("fc", 200, compares=200, writes=3)
    if acc.tile.periphery.chopper is not None:
        hw.flip("fc", 30, role="A")
    hw.digital("activation", 2000, layer="fc")
    hw.transfer(4096)
    assert hw.flush() > 0
    table = TechnologyTable.load(acc.technology, base_dir=str(path.parent))
    rep = estimate(hw.machine.ledger, table)
    assert rep.total > 0
    assert rep.total == pytest.approx(sum(r.count * r.price for r in rep.rows), rel=1e-12)
    for p, e in rep.by_path().items():
        assert e == pytest.approx(sum(r.count * r.price for r in rep.rows if r.path == p),
                                  rel=1e-12)
    assert area_report(hw.machine.components, table).total > 0


def test_hermes_like_core_8bit_mvm_is_133ns():
    """Le Gallo et al. 2023: ≈133 ns per 8-bit 1-phase MVM on a 256×256 core (the other
    published figures of every reference accelerator: test_published_figures.py)."""
    _, hw = _hw(ROOT / "configs" / "accelerators" / "hermes_core.yaml", (256, 256))
    hw.forward("fc", 1, role="C")
    assert hw.flush() == pytest.approx(133_000, rel=0.01)


@pytest.mark.parametrize("path", ACCS, ids=[p.stem for p in ACCS])
def test_update_slots_last_the_tiles_pulse_width(path):
    """The pulse generator streams one slot per *tile* pulse width (its build argument
    from the template), so n slots after the setup take n · pulse_width: closed form
    ``cycles(setup_time) + n · cycles(pulse_width)`` on the 1 GHz digital clock (a
    generator left at its 5 ns default made 100 slots of 1 ns on rpu_tile 502 ns)."""
    acc, hw = _hw(path)
    pg = hw.machine.components["chip.tile0.pulse_generator"]
    assert pg.pulse_width == acc.tile.pulse_width
    f = 1e9                                             # clocks.digital of every file
    setup = math.ceil(acc.tile.periphery.pulse_generator.setup_time * f - 1e-6)  # 5.9 ns: 6
    slot = round(acc.tile.pulse_width * f)
    hw.update("fc", 100, role="A", pulses=10, row_slots=10, col_slots=10)
    assert hw.flush() == (setup + 100 * slot) * 1000


@pytest.mark.parametrize("name, n, ns", [
    # ISAAC-like, sample-and-hold: DAC 2·1 ns + 2·100 ns integration + 128 conversions at
    # 1.28 GS/s (100 ns; the first phase's conversion overlaps the second integration),
    # then one vector per max(2·100 ns tile, 2·100 ns ADC) = 200 ns
    ("isaac_tile.yaml", 1, 2 + 200 + 100), ("isaac_tile.yaml", 3, 2 + 200 + 100 + 2 * 200),
    # HERMES-like, conversion in place: DAC 2·1 ns + 2·56 ns + 2·255 CCO cycles (153 ns);
    # one vector per 2·(255 + 187) CCO cycles = 265.2 ns (the array waits for the CCO)
    ("hermes_core.yaml", 1, 2 + 112 + 153), ("hermes_core.yaml", 3, 2 + 112 + 153 + 2 * 265.2),
])
def test_two_read_phases_closed_forms(name, n, ns):
    """``tile.read_phases: 2``: each MVM integrates and converts twice; the ADC formula
    depends on ``adc.sample_hold`` (hwsim/components/adc.py).  Every MVM action counts
    each phase: read 2n, DAC and ADC conversions 2n per line."""
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / name),
                           {"tile.read_phases": 2})
    rows, cols = acc.tile.rows, acc.tile.cols
    hw = Hardware(build_machine(acc), map_layers([("fc", rows, cols)], ("W",), rows, cols,
                                                 acc.tile.count))
    hw.forward("fc", n)
    assert hw.flush() == pytest.approx(ns * 1000, abs=1000)     # within a clock edge
    led = hw.machine.ledger
    assert led.count(path="chip.tile0", action="read") == 2 * n
    assert led.count(path="chip.tile0.dac", action="convert") == 2 * n * cols
    assert led.count(path="chip.tile0.adc", action="convert") == 2 * n * rows


@pytest.mark.parametrize("granularity", ["burst", "item"])
def test_differential_read_is_one_read_of_the_pair(granularity):
    """``read_column`` with ``minus: R`` (a TTv2-family read of A − R, issue 16 item 5):
    R's tile integrates with A's and A's ADCs convert the difference once.  Rasch 2024
    runtime model: one read = 39 ns integration + 1 ns conversion = 40 ns, the same as a
    read of A alone (two sequential reads were 80 ns); counts by hand: R's tile and DAC
    take part (reads n, conversions n·512), R's ADC converts nothing."""
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "rasch2024_runtime.yaml"))
    mapping = map_layers([("fc", 512, 512)], ("A", "C", "R"), 512, 512, acc.tile.count)
    hw = Hardware(build_machine(acc), mapping, granularity=granularity)
    a, r = (f"chip.tile{mapping['fc'].tiles(x)[0].tile}" for x in ("A", "R"))
    hw.read_column("fc", 1, role="A", col=5)
    alone = hw.flush()
    hw.read_column("fc", 3, role="A", col=5, minus="R", sum_gv2=7.0)
    pair = hw.flush()
    assert alone == 40_000 and pair == (3 * 39 + 1) * 1000
    led = hw.machine.ledger
    assert led.count(path=r, action="read") == 3
    assert led.count(path=f"{r}.dac", action="convert") == 3 * 512
    assert led.count(path=f"{r}.adc", action="convert") == 0
    assert led.count(path=f"{a}.adc", action="convert") == (1 + 3) * 512
    assert led.count(path=a, action="read_cell") == 7.0         # the pair's Σĝv̂², on A
    with pytest.raises(SimulationError, match="reference array 'H' is not mapped"):
        hw.read_column("fc", 1, role="A", col=5, minus="H")
        hw.flush()


def test_duration_build_arguments_take_quantities():
    """Explicit-form ``args`` are written as they are: the template's '5e-09 s', a user's
    '1 ns' or a number in seconds all build; a wrong dimension is an error."""
    clk, led = Clock("digital", 1e9), ActionLedger()
    for value in ("1 ns", "1e-09 s", 1e-9):
        pg = PulseGenerator("pg", PulseGenerator.Params(), clk, led, rows=2, cols=2,
                            pulse_width=value)
        assert pg.pulse_width == pytest.approx(1e-9, rel=1e-12)
    adc = ADC("adc", ADC.Params(), clk, led, lines=4, phases=2, integration_time="56 ns")
    assert adc.integration_time == pytest.approx(56e-9, rel=1e-12)
    with pytest.raises(SimulationError, match="pulse_width"):
        PulseGenerator("pg", PulseGenerator.Params(), clk, led, pulse_width="1 V")
    with pytest.raises(SimulationError, match="phases"):
        ADC("adc", ADC.Params(), clk, led, phases=0)
