"""AGAD on convolutions that span several tiles trains and prices every tile's own flips
(issue 14 item 10: 'chip.tile2.chopper: flip of 336 lines, but only 256 lines have a
chopper' — the flip op sent the whole layer's line count to each tile)."""
from pathlib import Path

from hwsim.config.experiment import load_experiment
from hwsim.training.runner import run_experiment

ROOT = Path(__file__).resolve().parents[2]

EXPERIMENT = """\
schema_version: 1
name: conv-agad-split
accelerator: {acc}
workload:
  dataset: {{name: digits, flatten: false, limit_train: 200, limit_test: 20}}
  network:
    - {{conv: {{out: 8, kernel: 3}}, activation: tanh}}
    - {{conv: {{out: 8, kernel: 3}}, activation: tanh}}
    - {{flatten: true}}
    - {{linear: 10}}
training: {{algorithm: agad, lr: 0.1, batch: 10, epochs: 1, params: {{weight_scale: 2}}}}
run: {{seed: 0, out: {out}, progress: false, checkpoint: false}}
"""


def test_agad_conv_split_over_tiles_flips_each_tiles_own_lines(tmp_path):
    # the c-TTv2 tile shrunk to 16 x 16: conv2 (8 outputs x 72 = 8·3·3 inputs) spans
    # 1 row block x 5 column blocks (16, 16, 16, 16, 8 columns)
    acc = (ROOT / "configs" / "accelerators" / "cttv2_tile.yaml").read_text()
    acc = acc.replace("  rows: 256", "  rows: 16").replace("  cols: 256", "  cols: 16") \
             .replace("  count: 16", "  count: 64")
    (tmp_path / "acc.yaml").write_text(acc)
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT.format(acc=tmp_path / "acc.yaml", out=tmp_path / "run"))
    res = run_experiment(load_experiment(str(exp)))
    hw, algo = res.hw, res.prep.algorithm
    lm = hw.mapping["conv2"]
    assert lm.grid == (1, 5)
    logical = algo.stats()["conv2"]["flips"]          # c_in entries the algorithm flipped
    assert logical > 16                               # more than one tile's lines
    per_tile = [hw.machine.ledger.count(path=hw.machine.tiles[s.tile].route("flip")[0], action="flip")
                for s in lm.tiles("A")]
    # one row block: each flipped input line is flipped once, on the tile that holds it
    assert sum(per_tile) == logical
    assert all(0 < f for f in per_tile)
