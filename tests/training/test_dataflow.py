"""Data movement of a training step (issue 15): the bytes the network walk stores and
re-reads (hand counts), the placement (what fits in the buffer stays, the rest spills
to DRAM), DRAM time at its bandwidth.

Hand counts use 16-bit words (w = 2 B, hwsim/training/dataflow.py WORD_BYTES) and the
walk of hwsim/training/dataflow.py's docstring."""
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hwsim.components import DRAM, Buffer, Interconnect
from hwsim.config.accelerator import load_accelerator
from hwsim.core import ActionLedger, Clock
from hwsim.elaborate.graph import build_machine
from hwsim.sim.engine import Simulator
from hwsim.sim.hardware import Hardware, move_specs
from hwsim.sim.program import Op
from hwsim.training.dataflow import StepMoves
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.network import build_network

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
NS = 1000


class Recorder:
    """The operations API, keeping only the ``move`` ops."""

    def __init__(self):
        self.moves = []

    def op(self, kind, n, layer="", role="W", phase="forward", **meta):
        if kind == "move":
            self.moves.append((layer, phase, meta["access"], meta["what"], n))

    def __getattr__(self, name):
        return lambda *a, **k: None


def test_bytes_of_one_conv_and_one_linear_layer():
    # conv 3x6x6 -> 8 maps of 4x4 (k = 3, no padding): N = 3·3² = 27, P = 16, M = 8;
    # flatten 8·4·4 = 128 -> linear 10.  Batch B = 4.
    net = build_network([{"conv": {"out": 8, "kernel": 3}}, {"flatten": True}, {"linear": 10}],
                        (3, 6, 6), rng=np.random.default_rng(0))
    shapes = net.layer_shapes()
    assert [(s.in_features, s.out_features, s.vectors_per_sample) for s in shapes] == \
        [(27, 8, 16), (128, 10, 1)]
    hw, B = Recorder(), 4
    moves = StepMoves(shapes, B)
    x = np.random.default_rng(1).normal(size=(B, 3, 6, 6))
    z = net.forward(x, hw=hw, moves=moves)
    _, grad = softmax_cross_entropy(z, np.array([0, 1, 2, 3]))
    moves.loss(hw)
    net.backward(grad, hw=hw, moves=moves)
    moves.update(hw)
    V = B * 16                    # conv vectors of the batch
    assert hw.moves == [
        ("conv1", "forward", "read", "patches", V * 27 * 2),       # 3456 B of im2col patches
        ("conv1", "forward", "write", "activation", V * 8 * 2),    # 1024 B output maps
        ("fc1", "forward", "read", "patches", B * 128 * 2),        # 1024 B: the maps once
        ("fc1", "forward", "write", "activation", B * 10 * 2),     # 80 B logits
        ("fc1", "backward", "write", "error", B * 10 * 2),         # loss gradient
        ("fc1", "backward", "read", "error", B * 10 * 2),
        ("fc1", "backward", "write", "error", V * 8 * 2),          # conv1's error, 1024 B
        # conv1 is the first layer: no transposed MVM.  The update re-reads x and d:
        ("conv1", "update", "read", "patches", V * 27 * 2),
        ("conv1", "update", "read", "error", V * 8 * 2),
        ("fc1", "update", "read", "patches", B * 128 * 2),
        ("fc1", "update", "read", "error", B * 10 * 2),
    ]
    # stored: input 3456 + maps 1024 + 80 + errors 80 + 1024
    assert moves.working_set == 3456 + 1024 + 80 + 80 + 1024


def _machine(**over):
    return build_machine(load_accelerator(str(ACC), {"tile.count": 1, **over}))


def test_a_spill_when_the_activations_exceed_the_buffer():
    m = _machine(**{"buffer.capacity": "1 KiB"})
    cap = 1024

    def split(n, offset, extent):
        op = Op("move", n, "", "-", "forward",
                (("access", "write"), ("extent", extent), ("offset", offset), ("what", "x")))
        return [(s[0], s[1]) for s in move_specs(m, op)]

    assert split(800, 0, 800) == [("transfer", 800)]                  # fits: stays on chip
    # 3000 B at offset 0: the first 1024 B stay, 1976 B spill
    assert split(3000, 0, 3000) == [("transfer", cap), ("dram", 3000 - cap)]
    # placed after 512 B of earlier tensors: 512 B on chip
    assert split(3000, 512, 3000) == [("transfer", 512), ("dram", 2488)]
    # beyond the capacity: all in DRAM
    assert split(3000, 4096, 3000) == [("dram", 3000)]
    # re-reading 2x the tensor (patches) keeps its on-chip fraction 1024/3000
    assert split(6000, 0, 3000) == [("transfer", cap), ("transfer", 1024), ("dram", 3952)]
    # the ledger: bits through the buffer and DRAM
    hw = Hardware(m, None)
    hw.op("move", 3000, access="write", offset=0, extent=3000, what="activation")
    hw.flush()
    rows = {(r["path"], r["action"]): r["count"] for r in m.ledger.to_rows()}
    assert rows[("chip.buffer", "write_bit")] == 8 * cap
    assert rows[("chip.dram", "write_bit")] == 8 * (3000 - cap)


def test_without_dram_a_spill_is_an_error():
    m = _machine(dram=None)
    assert "dram" not in m.routes
    hw = Hardware(m, None)
    hw.op("move", 10**6, access="read", offset=0, extent=10**6, what="patches")
    with pytest.raises(Exception, match="has no DRAM"):
        hw.flush()


@pytest.mark.parametrize("nbytes", [1, 1 << 20])
def test_dram_time_at_its_bandwidth(nbytes):
    # LPDDR4 default: 12.8 GB/s at a 1 GHz clock = 12.8 B/cycle, latency 50 ns = 50 cycles;
    # a wide stage fed at once ends L + ceil(B / w) − 1 cycles later (lanes.py)
    led = ActionLedger()
    d = DRAM("chip.dram", DRAM.Params(), Clock("digital", 1e9), led)
    sim = Simulator({d.path: d}, ledger=led)
    h = sim.submit("dram", nbytes, (d.path,), meta={"bytes": nbytes, "access": "read"},
                   phase="forward")
    sim.run()
    assert h.t_end == (50 + math.ceil(nbytes / 12.8) - 1) * NS
    assert {r["action"]: r["count"] for r in led.to_rows()} == {"read_bit": 8 * nbytes}
    # 1 MiB: 81 920 cycles at 12.8 B/cycle, i.e. 1 MiB / 12.8 GB/s = 81.92 us


def test_partial_sums_of_a_split_layer_cross_the_interconnect():
    # a 40 x 50 layer on 16 x 16 tiles: grid 3 x 4 (hwsim/elaborate/mapping.py).
    # Forward: (g_c − 1)·M = 3·40 = 120 partial sums per vector; backward (g_r − 1)·N =
    # 2·50 = 100; each a 2-byte word over the interconnect (1 hop, 32-byte flits).
    from hwsim.elaborate.mapping import map_layers
    acc = load_accelerator(str(ACC), {"tile.rows": 16, "tile.cols": 16, "tile.count": 16})
    mapping = map_layers([("L", 40, 50)], ("W",), 16, 16, 16)
    assert mapping["L"].grid == (3, 4)
    m = build_machine(acc)
    hw = Hardware(m, mapping)
    hw.forward("L", 10)
    hw.backward("L", 10)
    hw.flush()
    rows = {}
    for r in m.ledger.to_rows():                            # summed over the two phases
        rows[(r["path"], r["action"])] = rows.get((r["path"], r["action"]), 0) + r["count"]
    nbytes = 2 * 10 * 120 + 2 * 10 * 100                    # 2400 + 2000
    assert rows[("chip.interconnect", "transfer_bit")] == 8 * nbytes
    assert rows[("chip.interconnect", "flit_hop")] == math.ceil(2400 / 32) + math.ceil(2000 / 32)
    assert ("chip.buffer", "read_bit") not in rows          # tile -> digital unit, no buffer
