"""A data set declared in a test module only (its options section and its loader) is
validated, described, in the experiment schema and trains: no other file is touched."""
import numpy as np
import pytest

import hwsim
from hwsim.config.params import param, section
from hwsim.training import datasets
from hwsim.training.datasets import Dataset


@section("dataset.toy", "Two Gaussian blobs in 4 dimensions (a test data set)")
class ToyOptions:
    name: str = param("toy", desc="data set name", choices=("toy",))
    n: int = param(40, desc="samples per split", lo=2)
    spread: float = param(0.1, desc="std of each blob", lo=0, lo_open=True)


def _load_toy(o, rng, data_dir, key, base_dir=None):
    g = np.random.default_rng(0)
    y = np.arange(2 * o.opts.n) % 2
    x = g.normal(0, o.opts.spread, (2 * o.opts.n, 4)) + y[:, None]
    n = o.opts.n
    return Dataset(x[:n], y[:n], x[n:], y[n:], (4,), 2, "toy", "two blobs")


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(datasets.DATASETS, "toy", (ToyOptions, _load_toy))


def test_a_new_data_set_is_one_declaration(toy, tmp_path):
    exp = {"workload": {"dataset": {"name": "toy", "n": 20},
                        "network": [{"linear": 2}]},
           "training": {"algorithm": "float", "lr": 0.1, "batch": 5, "epochs": 1},
           "run": {"out": str(tmp_path / "out"), "progress": False}}
    assert hwsim.validate(exp).kind == "experiment"
    assert "spread" in hwsim.describe("dataset.toy")
    names = hwsim.schema("experiment")["properties"]["workload"]["properties"]["dataset"]
    assert "toy" in names["anyOf"][0]["enum"]
    bad = {**exp, "workload": {**exp["workload"], "dataset": {"name": "toy", "spread": 0}}}
    with pytest.raises(hwsim.HwsimError, match="spread"):
        hwsim.validate(bad)
    report = hwsim.run(exp, formats=())
    assert report.history[0]["samples"] == 20
