"""Line buffer for the im2col patch re-reads of conv layers (issue 15): the bytes a conv
layer's patches cost with and without a line buffer, by hand.

Hand counts use 16-bit words (w = 2 B) and the policy of hwsim/training/dataflow.py's
docstring: a conv with a k_h × k_w kernel over a C × H × W map needs a window of
(k_h − 1)·W·C·w bytes; when a line buffer at least that big exists, the map is read once
(B·C·H·W·w bytes) from the buffer/DRAM and written into the line buffer, and the
B·H_out·W_out·C·k_h·k_w·w patch bytes are read from the line buffer."""
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hwsim.components import LineBuffer
from hwsim.config.accelerator import load_accelerator
from hwsim.core import ActionLedger, Clock
from hwsim.elaborate.graph import build_machine
from hwsim.energy import TechnologyTable, estimate
from hwsim.sim.engine import Simulator
from hwsim.sim.hardware import Hardware, move_specs
from hwsim.sim.program import Op
from hwsim.training.dataflow import StepMoves
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.network import build_network

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
NS = 1000
B = 4
# conv 3×6×6 -> 8 maps of 4×4 (k = 3, no padding): N = 27, P = 16; flatten -> linear 10
PATCH = B * 16 * 27 * 2          # 3456 B of patches per read
UNIQUE = B * 3 * 6 * 6 * 2       # 864 B: the input map once
WINDOW = (3 - 1) * 6 * 3 * 2     # 72 B: two rows of 6 pixels × 3 channels


class Recorder:
    """The operations API, keeping the ``move`` ops with their fields."""

    def __init__(self):
        self.moves = []

    def op(self, kind, n, layer="", role="W", phase="forward", **meta):
        if kind == "move":
            self.moves.append((layer, phase, meta["what"], n, meta.get("window"),
                               meta.get("unique")))

    def __getattr__(self, name):
        return lambda *a, **k: None


def _walk(layers):
    net = build_network([{"conv": {"out": 8, "kernel": 3}}, {"flatten": True}, {"linear": 10}],
                        (3, 6, 6), rng=np.random.default_rng(0))
    hw = Recorder()
    moves = StepMoves(layers(net), B)
    z = net.forward(np.random.default_rng(1).normal(size=(B, 3, 6, 6)), hw=hw, moves=moves)
    _, grad = softmax_cross_entropy(z, np.array([0, 1, 2, 3]))
    moves.loss(hw)
    net.backward(grad, hw=hw, moves=moves)
    moves.update(hw)
    return [m for m in hw.moves if m[2] == "patches"]


def test_conv_patch_reads_carry_the_window_and_the_map():
    assert _walk(lambda net: net.analog_layers()) == [
        ("conv1", "forward", "patches", PATCH, WINDOW, UNIQUE),
        ("fc1", "forward", "patches", B * 128 * 2, None, None),     # linear: no window
        ("conv1", "update", "patches", PATCH, WINDOW, UNIQUE),      # the update's x again
        ("fc1", "update", "patches", B * 128 * 2, None, None),
    ]
    # shapes without geometry (older traces, LayerShape) issue the reads as before
    assert [m[4] for m in _walk(lambda net: net.layer_shapes())] == [None] * 4


def test_a_generated_shape_carries_the_same_geometry():
    shape = SimpleNamespace(name="conv1", kind="conv", out_features=8, in_features=27,
                            vectors_per_sample=16, conv={"input": [3, 6, 6], "kernel": [3, 3]})
    assert StepMoves([shape], B).window == {0: (WINDOW, UNIQUE)}
    bad = SimpleNamespace(**{**vars(shape), "in_features": 28})
    with pytest.raises(ValueError, match="27 patch inputs, but in_features is 28"):
        StepMoves([bad], B)


def _machine(**over):
    return build_machine(load_accelerator(str(ACC), {"tile.count": 1, **over}))


def _patch_op():
    return Op("move", PATCH, "conv1", "-", "forward",
              (("access", "read"), ("extent", PATCH), ("offset", 0), ("unique", UNIQUE),
               ("what", "patches"), ("window", WINDOW)))


def _rows(m):
    hw = Hardware(m, None)
    hw.issue(_patch_op())
    hw.flush()
    return {(r["path"], r["action"]): r["count"] for r in m.ledger.to_rows()}


def test_with_a_line_buffer_the_map_is_read_once():
    m = _machine(**{"line_buffer.capacity": "1 KiB"})
    assert m.routes["line"] == ("chip.line_buffer",)
    specs = [(s[0], s[1], s[2][0], s[5]["access"]) for s in move_specs(m, _patch_op())]
    assert specs == [("transfer", UNIQUE, "chip.buffer", "read"),      # the map once
                     ("line", UNIQUE, "chip.line_buffer", "write"),    # into the window
                     ("line", PATCH, "chip.line_buffer", "read")]      # k² re-reads
    rows = _rows(_machine(**{"line_buffer.capacity": "1 KiB"}))
    assert rows[("chip.buffer", "read_bit")] == 8 * 864
    assert rows[("chip.line_buffer", "write_bit")] == 8 * 864
    assert rows[("chip.line_buffer", "read_bit")] == 8 * 3456
    # the buffer/DRAM traffic falls by k²·H_out·W_out / (H·W) = 9·16/36 = 4
    assert PATCH / UNIQUE == 4


def test_a_window_that_does_not_fit_or_no_line_buffer_rereads_from_the_buffer():
    for m in (_machine(**{"line_buffer.capacity": "64 B"}), _machine()):   # 64 B < 72 B
        rows = _rows(m)
        assert rows[("chip.buffer", "read_bit")] == 8 * PATCH
        assert not any(p == "chip.line_buffer" for p, _ in rows)
    assert "line" not in _machine().routes          # the default accelerator has none


def test_line_buffer_time_and_energy():
    # 3456 B at 64 B/cycle, 1-cycle latency: L + ceil(B / w) − 1 = 54 cycles (lanes.py)
    led = ActionLedger()
    lb = LineBuffer("chip.line_buffer", LineBuffer.Params(), Clock("digital", 1e9), led)
    sim = Simulator({lb.path: lb}, ledger=led)
    h = sim.submit("line", PATCH, (lb.path,), meta={"bytes": PATCH, "access": "read"},
                   phase="forward")
    sim.run()
    assert h.t_end == (1 + math.ceil(PATCH / 64) - 1) * NS
    # Horowitz ISSCC 2014 small (8 KB) SRAM 0.16 pJ/bit; static 0.171 um^2 x 50 nW/um^2
    # = 8.55 nW per bit of capacity (8 KiB default) for the run's T = 54 ns
    rep = estimate(led, TechnologyTable.load("32nm_isaac"), [lb], 54e-9)
    assert rep.dynamic == pytest.approx(8 * PATCH * 0.16e-12)
    assert rep.static == pytest.approx(8 * 8192 * 0.171 * 50e-9 * 54e-9)


EXPERIMENT = """\
schema_version: 1
name: line-buffer-rt
accelerator: {acc}
workload:
  dataset: {{name: digits, flatten: false, limit_train: 40, limit_test: 20}}
  network: [{{conv: {{out: 4, kernel: 3, padding: 1}}, activation: relu}}, {{flatten: true}},
            {{linear: 10}}]
training: {{algorithm: sgd, lr: 0.1, batch: 10, epochs: 1, params: {{weight_scale: 4}}}}
run: {{seed: 0, out: {out}, progress: false, checkpoint: false}}
"""


def test_a_recorded_conv_run_replays_to_the_same_cost_with_a_line_buffer(tmp_path):
    # the recorded run's cost equals its trace's replay (the machine places the patch
    # reads the same way in both), and the line buffer took the patch re-reads:
    # per step of 10 digits (1×8×8, k = 3, padding 1: 64 output pixels, N = 9) the conv
    # reads 10·64·9·2 = 11 520 patch bytes twice (forward, update) from the line buffer
    # and writes its 10·64·2 = 1280-byte map into it twice; 4 steps
    from hwsim.api import replay
    from hwsim.config.experiment import load_experiment
    from hwsim.report.runs import run_report
    from hwsim.training.runner import run_experiment
    acc = tmp_path / "acc.yaml"
    acc.write_text(ACC.read_text() + "line_buffer: {capacity: 1 KiB}\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT.format(acc=acc, out=tmp_path / "run"))
    trace = tmp_path / "t.jsonl.gz"
    run = run_report(run_experiment(load_experiment(str(exp)), trace_path=str(trace)))
    rep = replay(str(acc), trace, progress=False)
    assert rep["energy"] == run["energy"] and rep["latency"] == run["latency"]
    rows = {}
    for r in rep["energy"]["rows"]:
        if r["path"] == "chip.line_buffer" and r["phase"] != "static":
            rows[r["action"]] = rows.get(r["action"], 0) + r["count"]
    assert rows == {"read_bit": 8 * 4 * 2 * 11520, "write_bit": 8 * 4 * 2 * 1280}
