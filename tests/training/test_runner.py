"""The experiment runner: determinism (byte-identical reports), resume, report contents."""
import json

import pytest

from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section, replace
from hwsim.report import to_json_text
from hwsim.report.runs import run_report, write_run_outputs
from hwsim.training.runner import run_experiment as _run


def run_experiment(cfg, quiet=True, **kw):
    result = _run(cfg, **kw)
    rep = run_report(result)
    write_run_outputs(rep, result)
    return rep
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACC = str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml")


def _cfg(out, algorithm="float", epochs=2, lr=1.0, limit=300, params=None):
    data = {"name": "t", "accelerator": ACC,
            "workload": {"dataset": {"name": "digits", "limit_train": limit, "limit_test": 200},
                         "network": [{"linear": 16, "activation": "sigmoid"}, {"linear": 10}]},
            "training": {"algorithm": algorithm, "lr": lr, "batch": 10, "epochs": epochs,
                         "params": params or {}},
            "run": {"seed": 3, "out": str(out), "progress": False}}
    return replace(build_section(ExperimentConfig, data), file=str(ROOT / "configs" / "x.yaml"))


def test_same_seed_gives_byte_identical_json(tmp_path):
    cfg = _cfg(tmp_path / "a")
    run_experiment(cfg, quiet=True)
    first = (tmp_path / "a" / "report.json").read_bytes()
    run_experiment(cfg, quiet=True)
    assert (tmp_path / "a" / "report.json").read_bytes() == first
    rep = json.loads(first)
    assert rep["meta"]["seed"] == 3 and rep["meta"]["backend"] == "cython"
    assert rep["meta"]["config"]["experiment"]["training"]["algorithm"] == "float"


def test_other_seed_changes_the_numbers(tmp_path):
    a = run_experiment(_cfg(tmp_path / "a"), quiet=True)
    cfg = _cfg(tmp_path / "b")
    b = run_experiment(replace(cfg, run=replace(cfg.run, seed=4)), quiet=True)
    assert a["extra"]["training"]["history"] != b["extra"]["training"]["history"]


def _strip(rep):
    rep = json.loads(to_json_text(rep))
    rep["meta"].pop("config")
    return rep


@pytest.mark.parametrize("algorithm,lr", [("float", 1.0), ("sgd", 0.1), ("c-ttv2", 0.1), ("mixed-precision", 0.1)])
def test_resume_matches_uninterrupted_run(tmp_path, algorithm, lr):
    full = run_experiment(_cfg(tmp_path / "full", algorithm, epochs=2, lr=lr), quiet=True)
    run_experiment(_cfg(tmp_path / "part", algorithm, epochs=1, lr=lr), quiet=True)
    resumed = run_experiment(_cfg(tmp_path / "part", algorithm, epochs=2, lr=lr), resume=True,
                             quiet=True)
    assert _strip(resumed) == _strip(full)


def test_report_energy_is_conserved_and_accuracy_reported(tmp_path):
    rep = run_experiment(_cfg(tmp_path / "a"), quiet=True)
    rows = rep["energy"]["rows"]
    assert sum(r["count"] * r["price_J"] for r in rows) == pytest.approx(rep["energy"]["total_J"],
                                                                        rel=1e-12)
    hist = rep["extra"]["training"]["history"]
    assert len(hist) == 2 and hist[-1]["samples"] == 300
    assert rep["per_sample"]["samples"] == 600
    assert rep["latency"]["total_ticks"] > 0


def test_ir_drop_runs_through_the_cached_effective_matrix(tmp_path):
    """With ir_drop > 0 every array keeps an IR-drop cache: W_eff is recomputed after
    the weights moved, and reused while they did not."""
    import numpy as np
    cfg = _cfg(tmp_path / "ir", "sgd", epochs=1, lr=0.1, limit=50)
    acc_data = {"technology": "32nm_isaac", "device": "reram_softbounds",
                "tile": {"rows": 64, "cols": 64, "count": 4, "forward": {"ir_drop": 1e-3},
                         "backward": {"ir_drop": 1e-3}}}
    result = _run(replace(cfg, accelerator=acc_data))
    layer = result.prep.network.analog_layers()[0]
    arr = layer.backend.arrays[0][0]
    fwd = arr.ir["forward"]
    assert fwd.recomputes >= 1
    before = fwd.recomputes
    x = np.random.default_rng(0).uniform(0, 1, (3, arr.shape[1]))
    y1 = arr.forward(x)
    y2 = arr.forward(x)
    assert fwd.recomputes <= before + 1           # no weight change: W_eff reused
    after = fwd.recomputes
    arr.pulsed_update(x, np.ones((3, arr.shape[0])), 0.5)   # large move: recompute next read
    arr.forward(x)
    assert fwd.recomputes == after + 1
    assert y1.shape == y2.shape == (3, arr.shape[0])


def test_accelerator_overrides_reach_into_the_referenced_file(tmp_path):
    from hwsim.config.experiment import load_experiment
    from hwsim.errors import ConfigError
    from hwsim.training.runner import prepare
    qs = str(ROOT / "configs" / "quickstart.yaml")
    cfg = load_experiment(qs, {"accelerator.tile.rows": 128,
                               "accelerator.engine.schedule": "pipelined",
                               "training.epochs": 1})
    assert cfg.accelerator_file.endswith("cttv2_tile.yaml") and cfg.training.epochs == 1
    acc = prepare(cfg).accelerator
    assert acc.tile.rows == 128 and acc.engine.schedule == "pipelined"
    assert acc.file.endswith("cttv2_tile.yaml")          # relative references still resolve
    with pytest.raises(ConfigError) as e:
        prepare(load_experiment(qs, {"accelerator.tile.rows": "huge"}))
    assert e.value.file.endswith("cttv2_tile.yaml") and e.value.key == "tile.rows"
