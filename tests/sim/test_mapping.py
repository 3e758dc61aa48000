"""Mapping of layers onto tiles: counts, blocks, partial-sum adds, errors."""
import math

import pytest
from hypothesis import given, strategies as st

from hwsim.elaborate.mapping import map_layers
from hwsim.errors import BuildError


@pytest.mark.parametrize("m,n,rows,cols,grid", [
    (10, 64, 256, 256, (1, 1)),        # smaller than a tile
    (256, 256, 256, 256, (1, 1)),      # exactly a tile
    (256, 784, 256, 256, (1, 4)),      # MNIST first layer: 4 column blocks
    (300, 300, 128, 128, (3, 3)),
    (1000, 10, 128, 512, (8, 1)),
])
def test_grid_and_partial_sums(m, n, rows, cols, grid):
    mp = map_layers([("L", m, n)], ("A", "C"), rows, cols, 1000)
    lm = mp["L"]
    assert lm.grid == grid
    assert mp.tiles_used == 2 * grid[0] * grid[1]
    assert lm.partial_sum_adds_per_vector == (grid[1] - 1) * m
    assert lm.partial_sum_adds_per_vector_t == (grid[0] - 1) * n
    for role in ("A", "C"):
        slots = lm.tiles(role)
        assert sum(s.rows * s.cols for s in slots) == m * n   # every weight exactly once
    assert len({s.tile for r in ("A", "C") for s in lm.tiles(r)}) == mp.tiles_used


@given(st.lists(st.tuples(st.integers(1, 700), st.integers(1, 700)), min_size=1, max_size=4),
       st.sampled_from([64, 128, 256]))
def test_tiles_are_distinct_and_cover_each_layer(shapes, size):
    layers = [(f"l{i}", m, n) for i, (m, n) in enumerate(shapes)]
    need = sum(math.ceil(m / size) * math.ceil(n / size) for _, m, n in layers)
    mp = map_layers(layers, ("W",), size, size, need)
    assert mp.tiles_used == need
    util = mp.utilization()
    assert all(0 < u <= 1 for u in util.values())
    assert sum(u for u in util.values()) * size * size == sum(m * n for _, m, n in layers)


def test_too_few_tiles_says_how_many_are_needed():
    with pytest.raises(BuildError, match="needs 12 tiles"):
        map_layers([("a", 256, 784), ("b", 128, 256), ("c", 10, 128)], ("A", "C"), 256, 256, 8)


def test_unknown_role_and_layer_are_clear_errors():
    mp = map_layers([("a", 4, 4)], ("W",), 8, 8, 1)
    with pytest.raises(BuildError, match="no 'A' array"):
        mp["a"].tiles("A")
    with pytest.raises(BuildError, match="no mapped layer 'b'"):
        mp["b"]


def test_a_route_must_follow_connections():
    """The engine refuses an operation whose route skips the graph's connections."""
    from pathlib import Path
    from hwsim.elaborate.graph import build_machine
    from hwsim.config.accelerator import load_accelerator
    from hwsim.errors import SimulationError
    from hwsim.sim.engine import Simulator
    root = Path(__file__).resolve().parents[2]
    acc = load_accelerator(str(root / "configs" / "accelerators" / "cttv2_tile.yaml"),
                           {"tile.count": 1})
    m = build_machine(acc)
    sim = Simulator(m.components, m.adjacency)
    sim.submit("forward", 1, ("chip.tile0.dac", "chip.tile0", "chip.tile0.adc"))
    with pytest.raises(SimulationError, match="follows no connection"):
        sim.submit("forward", 1, ("chip.tile0.dac", "chip.tile0.adc"))
    with pytest.raises(SimulationError, match="unknown component"):
        sim.submit("forward", 1, ("chip.tile9.dac",))
