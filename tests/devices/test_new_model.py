"""A device model added in this test module only (no other file touched): registered, it
is validated, described, in the schema, and trains one batch through the NumPy path;
it has no compiled kernel, so the cython backend refuses it with a clear error."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.devices import DeviceConfig, load_device
from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section, describe_section, param
from hwsim.devices import (device_schema, device_section, device_sections, model_param,
                           register_device_model, unregister_device_model)
from hwsim.errors import BackendError, ConfigError
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.update import apply_pulses
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.runner import prepare, stream


@device_section
class SaturatingStep(DeviceConfig):
    """SaturatingStep (test model): q± = 1/(1 + k·|w|), steps shrink away from w = 0"""
    model: str = model_param("saturating_step")
    sat_k: float = param(2.0, lo=0, desc="saturation k of q± = 1/(1 + k|w|)")

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return 1.0 / (1.0 + self.sat_k * np.abs(np.asarray(w, dtype=np.float64)))


@pytest.fixture(autouse=True)
def registered():
    register_device_model(SaturatingStep)
    yield
    unregister_device_model("saturating_step")


QUIET = dict(dw_min_dtod=0.0, dw_min_std=0.0, w_max_dtod=0.0, w_min_dtod=0.0, up_down_dtod=0.0)


def test_validate_describe_schema(tmp_path):
    dev = tmp_path / "sat.yaml"
    dev.write_text("schema_version: 1\nmodel: saturating_step\nsat_k: 5.0\ndw_min: 0.002\n")
    cfg = load_device(dev)
    assert type(cfg) is SaturatingStep and (cfg.sat_k, cfg.dw_min, cfg.w_max) == (5.0, 0.002, 0.6)
    assert type(DeviceConfig(model="saturating_step")) is SaturatingStep
    dev.write_text("model: saturating_step\npow_gamma: 2.0\n")     # a pow_step key
    with pytest.raises(ConfigError) as exc:
        load_device(dev)
    assert (exc.value.line, exc.value.key) == (2, "pow_gamma")
    dev.write_text("model: saturating_step\nsat_k: -1\n")          # below its declared range
    with pytest.raises(ConfigError) as exc:
        load_device(dev)
    assert (exc.value.line, exc.value.key) == (2, "sat_k")
    # `hwsim validate` of an accelerator whose device is the new model
    acc = tmp_path / "acc.yaml"
    acc.write_text("device: {model: saturating_step, sat_k: 3.0}\n")
    assert main(["validate", str(acc)]) == 0
    acc.write_text("device: {model: saturating_step, sat_kk: 3.0}\n")
    assert main(["validate", str(acc)]) == 2
    assert "saturating_step" in device_sections()
    assert any(line.strip().startswith("sat_k: float = 2.0")
               for line in describe_section(SaturatingStep))
    variants = {v["properties"]["model"]["enum"][0]: v for v in device_schema()["oneOf"]}
    assert variants["saturating_step"]["properties"]["sat_k"]["minimum"] == 0


def test_numpy_reference_step_by_hand_and_cython_refuses():
    # float64 state: the hand recurrence below is float64 arithmetic
    arr = DeviceArray(SaturatingStep(sat_k=4.0, **QUIET), (1, 2), np.random.default_rng(0),
                      "float64")
    counts = np.array([[3, -2]])
    apply_pulses(arr, counts, np.random.default_rng(1), backend="numpy")
    # hand recurrence w ← w ± Δ/(1 + k|w|), Δ = dw_min 0.001, no noise, no spread
    want = []
    for n in (3, -2):
        w = 0.0
        for _ in range(abs(n)):
            w += np.sign(n) * 0.001 / (1.0 + 4.0 * abs(w))
        want.append(w)
    np.testing.assert_allclose(arr.w[0], want, rtol=0, atol=1e-18)
    with pytest.raises(BackendError, match="backend numpy"):
        apply_pulses(arr, counts, np.random.default_rng(1), backend="cython")


def _experiment(backend):
    return build_section(ExperimentConfig, {
        "accelerator": {"device": {"model": "saturating_step", "sat_k": 1.0}},
        "workload": {"dataset": "digits", "network": [{"linear": 10}]},
        "training": {"algorithm": "sgd", "lr": 0.5, "batch": 10, "epochs": 1},
        "run": {"seed": 0, "timing": False, "backend": backend}}, "")


def _one_batch(prep):
    """One mini-batch as training.runner's epoch loop runs it, without the timing."""
    net, algo = prep.network, prep.algorithm
    xb, yb = next(iter(prep.dataset.batches(10, stream(0, "data"))))
    _, grad = softmax_cross_entropy(net.forward(xb, hw=prep.context.hw), yb)
    net.backward(grad)
    algo.update(net, len(xb))


def test_trains_one_batch_on_the_numpy_backend_only():
    prep = prepare(_experiment("numpy"))
    (arr,) = [a.array for a in prep.algorithm.arrays.values()]     # one linear layer
    assert type(arr.cfg) is SaturatingStep and arr.model_code is None
    before = arr.w.copy()
    _one_batch(prep)
    assert np.all(np.isfinite(arr.w)) and np.count_nonzero(arr.w != before) > 0
    prep = prepare(_experiment("cython"))
    with pytest.raises(BackendError, match="saturating_step"):
        _one_batch(prep)
