"""Every op kind on a layer split over several tiles in both directions: each tile gets its
share (the op schema's split rules, hwsim.core.ops), counted by hand below.

Layer ``L`` of 40 × 50 weights on 16 × 16 tiles: a grid of 3 row blocks (16, 16, 8 rows)
× 4 column blocks (16, 16, 16, 2 columns) = 12 tiles, 2000 cells.  The four tile shapes
and their shares: 16×16 (256 cells, 6 tiles), 16×2 (32, 2), 8×16 (128, 3), 8×2 (16, 1);
lines (rows + cols) of the 90 the layer has: 32, 18, 24, 10.
"""
from pathlib import Path

from hwsim.config.accelerator import load_accelerator
from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.sim.hardware import Hardware

ROOT = Path(__file__).resolve().parents[2]
ACC = str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml")
SHAPES = ((16, 16), (16, 2), (8, 16), (8, 2))
TILES_OF = {(16, 16): 6, (16, 2): 2, (8, 16): 3, (8, 2): 1}


def _hw(**over):
    acc = load_accelerator(ACC, {"tile.rows": 16, "tile.cols": 16, "tile.count": 16, **over})
    mapping = map_layers([("L", 40, 50)], ("W",), 16, 16, 16)
    assert mapping["L"].grid == (3, 4)
    return Hardware(build_machine(acc), mapping)


#: the block of a tile by its config key (``array``: the crossbar itself)
_KIND = {"dac": "DAC", "adc": "ADC", "pgen": "PulseGenerator", "chopper": "Chopper",
         "acc": "DigitalAccumulator"}


def _block_path(hw, tile, block):
    """Path of ``block`` serving ``tile`` (found on the tile's routes), or None."""
    if block == "array":
        return tile.path
    from hwsim.core import kind as kind_of
    cls = kind_of(_KIND[block])
    for route in tile.routes.values():
        for p in route or ():
            if isinstance(hw.machine.components[p], cls):
                return p
    return None


def _per_tile(hw, block, action):
    """{(rows, cols, col0): [count of each tile of that block]} of one block kind."""
    out = {}
    ledger = hw.machine.ledger
    for s in hw.mapping["L"].tiles("W"):
        path = _block_path(hw, hw.machine.tiles[s.tile], block)
        out.setdefault((s.rows, s.cols, s.col0), []).append(
            ledger.count(path=path, action=action) if path else None)
    return out


def _by_shape(per_tile):
    """{(rows, cols): the one count every tile of that shape has}."""
    out = {}
    for (r, c, _c0), counts in per_tile.items():
        for v in counts:
            assert out.setdefault((r, c), v) == v, (r, c, per_tile)
    return out


def _digital(hw, function):
    return hw.machine.ledger.count(path=hw.machine.routes["digital"][0]) if function is None else sum(
        c for k, c in hw.machine.ledger.items()
        if k.path == hw.machine.routes["digital"][0] and k.attr_dict().get("function") == function)


def test_forward_splits_lines_and_cells_and_adds_partial_sums():
    hw = _hw()
    hw.forward("L", 5, sum_gv2=1000.0, adc_saturations=20)
    hw.flush()
    # every tile converts n = 5 vectors of its own lines: DAC 5·cols, ADC 5·rows
    assert _by_shape(_per_tile(hw, "dac", "convert")) == {
        (16, 16): 80, (16, 2): 10, (8, 16): 80, (8, 2): 10}
    assert _by_shape(_per_tile(hw, "adc", "convert")) == {
        (16, 16): 80, (16, 2): 80, (8, 16): 40, (8, 2): 40}
    # Σĝv̂² by cells: 1000 · cells / 2000
    assert _by_shape(_per_tile(hw, "array", "read_cell")) == {
        (16, 16): 128.0, (16, 2): 16.0, (8, 16): 64.0, (8, 2): 8.0}
    # partial sums of 4 column blocks: 5 vectors · 3 · 40 outputs
    assert _digital(hw, "partial_sum") == 600


def test_backward_swaps_lines_and_adds_row_block_partial_sums():
    hw = _hw()
    hw.backward("L", 3, sum_gv2=100.0)
    hw.flush()
    # transposed: DAC drives the rows, ADC converts the columns
    assert _by_shape(_per_tile(hw, "dac", "convert")) == {
        (16, 16): 48, (16, 2): 48, (8, 16): 24, (8, 2): 24}
    assert _by_shape(_per_tile(hw, "adc", "convert")) == {
        (16, 16): 48, (16, 2): 6, (8, 16): 48, (8, 2): 6}
    assert _digital(hw, "partial_sum") == 3 * 2 * 50     # 3 row blocks: 2 adds per input


def test_read_column_runs_on_the_column_block_of_its_column_only():
    hw = _hw()
    hw.read_column("L", 2, role="W", col=33, sum_gv2=64.0)   # column 33: block 32..47
    hw.flush()
    per = _per_tile(hw, "array", "read_cell")
    # the block's 3 tiles hold 16·16 + 16·16 + 8·16 = 640 cells: 64 · 256/640, 64 · 128/640
    assert sorted(per[(16, 16, 32)]) == [25.6, 25.6] and per[(8, 16, 32)] == [12.8]
    assert all(v == 0 for k, vs in per.items() if k[2] != 32 for v in vs)
    assert _by_shape({k: v for k, v in _per_tile(hw, "dac", "convert").items()
                      if k[2] == 32}) == {(16, 16): 32, (8, 16): 32}


def test_update_splits_pulses_by_cells_and_line_slots_by_lines():
    hw = _hw()
    hw.update("L", 7, pulses=2000, row_slots=180, col_slots=90, rng_draws=900)
    hw.flush()
    # every tile runs the 7 slots; pulses by cells (2000 · cells/2000 = cells)
    assert _by_shape(_per_tile(hw, "array", "pulse")) == {
        (16, 16): 256, (16, 2): 32, (8, 16): 128, (8, 2): 16}
    # the declared 'lines' rule: row_slots 180 · lines/90, col_slots 90 · lines/90 (kept
    # as it was for bit-identical results; a tile's own rows' and columns' shares,
    # s.rows/M and s.cols/N, would be exact — see the ops branch report)
    assert _by_shape(_per_tile(hw, "array", "row_drive")) == {
        (16, 16): 64, (16, 2): 36, (8, 16): 48, (8, 2): 20}
    assert _by_shape(_per_tile(hw, "array", "col_drive")) == {
        (16, 16): 32, (16, 2): 18, (8, 16): 24, (8, 2): 10}
    assert _by_shape(_per_tile(hw, "pgen", "rng_draw")) == {      # 900 · lines/90
        (16, 16): 320, (16, 2): 180, (8, 16): 240, (8, 2): 100}
    assert hw.machine.ledger.count(action="pulse") == 2000


def test_serial_write_splits_pulses_by_cells():
    hw = _hw()
    hw.serial_write("L", 4, pulses=1000, max_pulses=3)
    hw.flush()
    assert _by_shape(_per_tile(hw, "array", "pulse")) == {      # 1000 · cells/2000
        (16, 16): 128, (16, 2): 16, (8, 16): 64, (8, 2): 8}


def test_accumulate_splits_elements_by_cells():
    hw = _hw()
    hw.accumulate("L", 2000, role="W", compares=2000, writes=100)
    hw.flush()
    # elements and compares: 2000 · cells/2000; writes 100 · cells/2000 (12.8, 1.6, 6.4,
    # 0.8) counted whole by the accumulator: 12, 1, 6, 0
    assert _by_shape(_per_tile(hw, "acc", "add")) == {
        (16, 16): 256, (16, 2): 32, (8, 16): 128, (8, 2): 16}
    assert _by_shape(_per_tile(hw, "acc", "compare")) == {
        (16, 16): 256, (16, 2): 32, (8, 16): 128, (8, 2): 16}
    assert _by_shape(_per_tile(hw, "acc", "write")) == {
        (16, 16): 12, (16, 2): 1, (8, 16): 6, (8, 2): 0}


def test_flip_gives_each_tile_its_own_input_lines():
    """Issue 14 item 10: a flip sent the whole layer's line count to every tile."""
    hw = _hw()
    hw.flip("L", 33, role="W")
    hw.flush()
    # 33 lines apportioned by column share 16/50, 16/50, 16/50, 2/50: 10.56, 10.56,
    # 10.56, 1.32 -> floors 10, 10, 10, 1 and the 2 left to the largest remainders
    # (ties to the first blocks): 11, 11, 10, 1 on every tile of the column block
    per = _per_tile(hw, "chopper", "flip")
    assert {k[2]: v for k, v in per.items() if k[0] == 16} == {
        0: [11, 11], 16: [11, 11], 32: [10, 10], 48: [1, 1]}
    assert {k[2]: v for k, v in per.items() if k[0] == 8} == {
        0: [11], 16: [11], 32: [10], 48: [1]}
    assert hw.machine.ledger.count(action="flip") == 33 * 3   # each row block's copy


def test_flip_from_a_column_counts_the_lines_where_they_are():
    hw = _hw()
    hw.flip("L", 12, role="W", col=40)        # lines 40..49, then 0, 1 (wrapping at 50)
    hw.flush()
    per = _per_tile(hw, "chopper", "flip")
    want = {0: 2, 16: 0, 32: 8, 48: 2}
    assert all(v == [want[c0]] * len(v) for (_r, _c, c0), v in per.items())


def test_flip_of_more_lines_than_a_tile_has_runs():
    """Before the split, a flip of 50 lines was 50 on each 16-line chopper: an error."""
    hw = _hw()
    hw.flip("L", 50, role="W")
    hw.flush()
    assert _by_shape(_per_tile(hw, "chopper", "flip")) == {
        (16, 16): 16, (16, 2): 2, (8, 16): 16, (8, 2): 2}


def test_chip_level_ops_are_not_split():
    hw = _hw()
    hw.digital("activation", 10, layer="L")
    hw.transfer(64, layer="L")
    hw.flush()
    assert _digital(hw, "activation") == 10
    assert hw.machine.ledger.count(path=hw.machine.routes["transfer"][0], action="read_bit") == 8 * 64


def test_flip_of_output_lines_splits_by_row_blocks():
    hw = _hw()
    hw.flip("L", 20, role="W", side="out")   # 20 · 16/40, 16/40, 8/40 = 8, 8, 4 (exact)
    hw.flip("L", 14, role="W", side="out", col=30)   # rows 30..39, then 0..3: 4, 2, 8
    hw.flush()
    per = {}
    for s in hw.mapping["L"].tiles("W"):
        per.setdefault(s.row0, set()).add(
            hw.machine.ledger.count(path=_block_path(hw, hw.machine.tiles[s.tile], "chopper"), action="flip"))
    assert per == {0: {8 + 4}, 16: {8 + 2}, 32: {4 + 8}}
