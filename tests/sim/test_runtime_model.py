"""Operation timings of the operations API against their closed forms on the Rasch et al.
2024 runtime model (its headline figures, in burst and item mode, are in
test_published_figures.py)."""
from pathlib import Path

import pytest

from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.config.accelerator import load_accelerator
from hwsim.sim.hardware import Hardware

ROOT = Path(__file__).resolve().parents[2]
NS = 1000  # ticks per ns


def _hw(name="rasch2024_runtime.yaml", roles=("A", "C"), granularity=None, **over):
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / name), over or None)
    mapping = map_layers([("fc", 512, 512)], roles, acc.tile.rows, acc.tile.cols, acc.tile.count)
    return Hardware(build_machine(acc), mapping, granularity=granularity)


def test_mvm_of_n_vectors_is_pipelined_by_the_array():
    hw = _hw()
    for n in (1, 2, 10):
        hw.forward("fc", n, role="C")
        # integration 39 cycles per vector (the bottleneck), the ADC adds 1 cycle
        assert hw.flush() == (39 * n + 1) * NS


def test_layer_larger_than_a_tile_runs_its_tiles_in_parallel_and_adds_partial_sums():
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "rasch2024_runtime.yaml"))
    mapping = map_layers([("big", 512, 1024)], ("W",), 512, 512, acc.tile.count)
    assert mapping["big"].grid == (1, 2) and mapping.tiles_used == 2
    hw = Hardware(build_machine(acc), mapping)
    hw.forward("big", 4, role="W")
    t = hw.flush()
    # two tiles in parallel: 4·39 + 1 cycles; partial sums 4·512 adds on 256 lanes (8 cycles
    # + 2 pipeline) overlap the MVMs on the digital unit
    assert t == (4 * 39 + 1) * NS
    adds = hw.machine.ledger.count(path="chip.digital_unit", action="op")
    assert adds == 4 * 512
    reads = hw.machine.ledger.count(action="read")
    assert reads == 8   # 4 vectors on each of the 2 tiles


def test_pipelined_schedule_streams_layers_behind_each_other():
    """Three 512×512 layers, n vectors: sequential = 3·(39n + 1) ns; layer-pipelined =
    Σ first-item latencies + (n−1)·II_bottleneck = 3·40 + (n−1)·39 ns."""
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "rasch2024_runtime.yaml"),
                           {"engine.schedule": "pipelined"})
    layers = [("l1", 512, 512), ("l2", 512, 512), ("l3", 512, 512)]
    mapping = map_layers(layers, ("W",), 512, 512, acc.tile.count)
    for n in (1, 4, 16):
        hw = Hardware(build_machine(acc), mapping)
        assert hw.cache is None
        for name, _, _ in layers:
            hw.forward(name, n)
        assert hw.flush() == (3 * 40 + (n - 1) * 39) * NS
    # the same program sequentially
    acc_seq = load_accelerator(str(ROOT / "configs" / "accelerators" / "rasch2024_runtime.yaml"))
    hw = Hardware(build_machine(acc_seq), mapping)
    for name, _, _ in layers:
        hw.forward(name, 16)
    assert hw.flush() == 3 * (39 * 16 + 1) * NS


def test_pipelined_ops_on_one_array_still_serialise():
    """An update of A followed by a read of A on the same tile cannot overlap."""
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "rasch2024_runtime.yaml"),
                           {"engine.schedule": "pipelined"})
    mapping = map_layers([("fc", 512, 512)], ("A",), 512, 512, acc.tile.count)
    hw = Hardware(build_machine(acc), mapping)
    hw.update("fc", 32, role="A", pulses=10, row_slots=10, col_slots=10)
    hw.read_column("fc", 1, role="A", col=0)
    # the tile is busy with 32 pulse slots (from 6 ns to 166 ns); the read integrates after
    assert hw.flush() == (166 + 39 + 1) * NS


def test_pipelined_item_mode_is_rejected():
    from hwsim.errors import SimulationError
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "rasch2024_runtime.yaml"),
                           {"engine.schedule": "pipelined", "engine.granularity": "item"})
    mapping = map_layers([("fc", 512, 512)], ("A",), 512, 512, acc.tile.count)
    with pytest.raises(SimulationError, match="burst"):
        Hardware(build_machine(acc), mapping)


@pytest.mark.parametrize("sample_hold", [False, True])
def test_pipelined_update_waits_for_conversions_without_a_sample_and_hold(sample_hold):
    """HERMES-like core, layer-pipelined: 10 MVMs then an update of the same array.
    Without a sample-and-hold the CCO converts the column charge in place, so the array
    is not free before the last conversion is out: 1 ns DAC + 56 ns integration + 76.5 ns
    conversion for the first MVM, then one per 442 CCO cycles = 132.6 ns (255 conversion
    + 187 integration cycles at 3.33 GHz; test_published_figures.py) — 133.5 + 9·132.6 =
    1326.9 ns, the update's first tile slot at the next 1 GHz edge, 1327 ns.  With a
    sample-and-hold the array is free after its 10 integrations, 1 + 10·56 = 561 ns."""
    acc = load_accelerator(str(ROOT / "configs" / "accelerators" / "hermes_core.yaml"),
                           {"engine.schedule": "pipelined",
                            "tile.periphery.adc.sample_hold": sample_hold})
    mapping = map_layers([("fc", 256, 256)], ("W",), 256, 256, acc.tile.count)
    machine = build_machine(acc)
    tile = machine.components["chip.tile0"]
    tile.timeline = []
    hw = Hardware(machine, mapping)
    hw.forward("fc", 10)
    hw.update("fc", 1, pulses=10, row_slots=1, col_slots=1)
    hw.flush()
    start = next(t0 for t0, _t1, op, *_ in tile.timeline if op == "update")
    assert start == (1327 if not sample_hold else 561) * NS
