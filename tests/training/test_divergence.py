"""A run whose numbers blow up ends with one clear error, not a traceback (charter: bad
input gets one line; a learning rate too large is bad input).

Two routes to a non-finite step: the loss of a mini-batch itself (caught before any
backward or update), and a NaN/inf that reaches the array physics (the kernels refuse
it with a ValueError naming the operand), both turned into one SimulationError that
names ``training.lr``."""
import numpy as np
import pytest

from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section
from hwsim.errors import SimulationError
from hwsim.training.runner import prepare, stream, train_epoch

CFG = {"accelerator": "configs/accelerators/cttv2_tile.yaml",
       "workload": {"dataset": "digits",
                    "network": [{"linear": 16, "activation": "sigmoid"}, {"linear": 10}]},
       "training": {"algorithm": "sgd", "lr": 0.1, "batch": 10, "epochs": 1},
       "run": {"seed": 0, "timing": False}}


def _prep(monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    return prepare(build_section(ExperimentConfig, CFG, ""))


def test_a_non_finite_loss_is_one_error_naming_the_learning_rate(monkeypatch):
    prep = _prep(monkeypatch)
    forward = prep.network.forward
    calls = []

    def blown(x, **kw):                 # the third mini-batch's outputs overflow
        calls.append(1)
        z = forward(x, **kw)
        return np.full_like(z, np.inf) if len(calls) == 3 else z
    monkeypatch.setattr(prep.network, "forward", blown)
    with pytest.raises(SimulationError) as exc:
        train_epoch(prep, prep.context.hw, stream(0, "data"))
    assert exc.value.key == "training.lr"
    assert "diverged after 20 samples" in str(exc.value)      # two batches of 10 went in


def test_nan_reaching_the_arrays_is_the_same_error(monkeypatch):
    prep = _prep(monkeypatch)
    backward = prep.network.backward

    def poisoned(grad, **kw):
        return backward(np.full_like(grad, np.nan), **kw)
    monkeypatch.setattr(prep.network, "backward", poisoned)
    with pytest.raises(SimulationError) as exc:
        train_epoch(prep, prep.context.hw, stream(0, "data"))
    assert exc.value.key == "training.lr" and "NaN or inf" in str(exc.value)
