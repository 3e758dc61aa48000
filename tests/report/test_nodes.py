"""The per-node table: every op's time and every action's energy attributed once to its
node and part, so the table adds up to the run's time and dynamic energy; a digital op
costs its count times the table's price (by hand)."""
import math
from pathlib import Path

import pytest

from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section, replace
from hwsim.report.nodes import COLUMNS, NO_NODE
from hwsim.report.runs import run_report
from hwsim.training.runner import run_experiment

ROOT = Path(__file__).resolve().parents[2]
ACC = str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml")


def _report(tmp_path, algorithm, acc=ACC):
    data = {"name": "t", "accelerator": acc,
            "workload": {"dataset": {"name": "digits", "limit_train": 40, "limit_test": 20},
                         "network": [{"linear": 16, "activation": "sigmoid"}, {"linear": 10}]},
            "training": {"algorithm": algorithm, "lr": 0.1, "batch": 10, "epochs": 1},
            "run": {"seed": 1, "out": str(tmp_path / "run"), "progress": False}}
    cfg = replace(build_section(ExperimentConfig, data), file=str(ROOT / "configs" / "x.yaml"))
    return run_report(run_experiment(cfg))


@pytest.mark.parametrize("algorithm", ["sgd", "c-ttv2"])
def test_nodes_add_up_to_the_run(tmp_path, algorithm):
    rep = _report(tmp_path, algorithm)
    rows = rep["nodes"]["rows"]
    assert [c["name"] for c in rep["nodes"]["columns"]] == [c.name for c in COLUMNS]
    assert [r["node"] for r in rows][:2] == ["fc1", "fc2"]
    # sequential schedule: the ops' times are the run's time; energies the dynamic energy
    assert math.fsum(r["total_s"] for r in rows) == pytest.approx(rep["latency"]["total_s"],
                                                                   rel=1e-12)
    assert math.fsum(r["total_J"] for r in rows) == pytest.approx(rep["energy"]["dynamic_J"],
                                                                   rel=1e-12)
    fc1 = rows[0]
    assert fc1["analog_J"] > 0 and fc1["digital_J"] > 0 and fc1["movement_J"] > 0


def test_loss_gradient_is_digital_work_of_no_node(tmp_path):
    rep = _report(tmp_path, "sgd")
    step = next(r for r in rep["nodes"]["rows"] if r["node"] == NO_NODE)
    # 40 samples: loss_grad is B·10 elements per mini-batch, 400 in all, each one 16-bit
    # subtraction at 0.021 pJ (configs/technology/32nm_isaac.yaml, ISAAC shift-and-add),
    # the only digital op of no layer in an SGD step
    assert step["digital_J"] == pytest.approx(400 * 0.021e-12, rel=1e-9)
    assert step["analog_J"] == 0.0


def test_replay_of_a_transformer_prices_its_digital_nodes(tmp_path):
    """One pre-norm encoder block (h = 2 heads, T = 8, d = 16, MLP 32) on 4 samples, SGD:
    the attention scores are digital MACs only — 4·2·8·8·8 = 4096 forward, twice that
    backward (dA and dB), each a 16-bit MAC of 0.821 pJ (32nm_isaac: 0.8 pJ mult +
    0.021 pJ add) — and the q projection is analog with its post-processing digital."""
    import hwsim
    from hwsim.training.trace_generate import generate_trace
    net = tmp_path / "enc.yaml"
    net.write_text("input_shape: [8, 16]\nnetwork:\n"
                   "  - {encoder: {heads: 2, dim: 16, mlp: 32}}\n"
                   "  - {mean: {axis: 0}}\n  - {linear: 10}\n")
    trace = generate_trace(net, 4, 1, "sgd", out=tmp_path / "t.jsonl.gz")
    rep = hwsim.replay(ACC, trace, progress=False).to_dict()
    rows = {r["node"]: r for r in rep["nodes"]["rows"]}
    scores = rows["encoder1.attn.scores"]
    assert scores["analog_J"] == 0 and scores["analog_s"] == 0
    assert scores["digital_J"] == pytest.approx(3 * 4096 * 0.821e-12, rel=1e-9)
    q = rows["encoder1.attn.q"]
    assert q["analog_J"] > 0 and q["digital_J"] > 0
    assert math.fsum(r["total_J"] for r in rows.values()) == pytest.approx(
        rep["energy"]["dynamic_J"], rel=1e-12)
