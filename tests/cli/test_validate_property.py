"""``validate`` passing ⇔ a run loads and trains one batch (issue 13 item 4, issue 14 item 2).

* every shipped experiment, and the quickstart on every shipped accelerator, validates and
  trains one mini-batch;
* hypothesis: for random valid-looking experiments, ``validate`` passing ⇒ one batch runs;
* hypothesis: for random mutations of the shipped files (a leaf replaced by a hostile value),
  ``validate`` fails ⇔ the run fails at load, and every failure is a one-line
  :class:`~hwsim.errors.HwsimError` (never another exception, i.e. never a traceback).
"""
import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim.config.experiment import load_experiment
from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.errors import HwsimError
from hwsim.sim.hardware import Hardware
from hwsim.training.runner import prepare, stream, timing_model, train_epoch

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
EXPERIMENTS = sorted(p.name for p in CONFIGS.glob("*.yaml"))
ACCELERATORS = sorted(p.name for p in (CONFIGS / "accelerators").glob("*.yaml"))
MNIST = ROOT.parent / "shared" / "data" / "mnist"
ALGOS = ("float", "sgd", "tiki-taka", "ttv2", "c-ttv2", "agad", "mixed-precision", "hic", "sbpca")


def validate(path) -> HwsimError | None:
    """What ``hwsim validate`` does with an experiment file: None if valid."""
    try:
        prepare(load_experiment(str(path)), validate_only=True)
    except HwsimError as exc:
        return exc
    return None


def run_one_batch(path) -> HwsimError | None:
    """What ``hwsim run`` does up to and through its first mini-batch: None if it works."""
    try:
        prep = prepare(load_experiment(str(path)))
        machine, mapping = timing_model(prep)
        hw = Hardware(machine, mapping, cache=prep.accelerator.engine.cache)
        prep.context.hw = hw
        ds, batch = prep.dataset, prep.cfg.training.batch
        prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:batch], train_y=ds.train_y[:batch])
        loss, seen = train_epoch(prep, hw, stream(0, "data-order"))
        hw.sync()
        assert seen == batch and np.isfinite(loss)
        acc = prep.accelerator                  # priced as the run's report prices it
        table = TechnologyTable.load(acc.technology, base_dir=str(Path(acc.file).parent))
        estimate(hw.machine.ledger, table)
        area_report(hw.machine.components, table)
    except HwsimError as exc:
        return exc
    return None


def _small(data: dict) -> dict:
    """An experiment's data with its data set cut to one batch (fast) and one epoch."""
    data = copy.deepcopy(data)
    ds = data["workload"].get("dataset", "digits")
    ds = {"name": ds} if isinstance(ds, str) else dict(ds)
    ds.update(limit_train=data["training"].get("batch", 10), limit_test=10)
    data["workload"]["dataset"] = ds
    data["training"]["epochs"] = 1
    return data


def _write(tmp, name, data, base=CONFIGS):
    """Write ``data`` as YAML into ``tmp`` with references resolved against ``base``."""
    data = copy.deepcopy(data)
    acc = data.get("accelerator")
    if isinstance(acc, str):
        data["accelerator"] = str((base / acc).resolve())
    ds = data.get("workload", {}).get("dataset")
    if isinstance(ds, dict) and "path" in ds:
        ds["path"] = str((base / ds["path"]).resolve())
    p = tmp / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _needs_mnist(data):
    ds = data.get("workload", {}).get("dataset")
    return isinstance(ds, dict) and ds.get("name") == "mnist"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_shipped_experiment_validates_and_runs_one_batch(tmp_path, name):
    data = yaml.safe_load((CONFIGS / name).read_text())
    if _needs_mnist(data):          # ../shared/data beside the checkout, as CI has it
        assert MNIST.is_dir(), f"the MNIST test split is missing: {MNIST}"
    assert validate(CONFIGS / name) is None
    p = _write(tmp_path, name, _small(data))
    assert validate(p) is None
    assert run_one_batch(p) is None


@pytest.mark.parametrize("acc", ACCELERATORS)
def test_every_shipped_accelerator_trains_one_batch(tmp_path, acc):
    """Analog SGD runs on every shipped accelerator; the quickstart's c-TTv2 runs exactly
    where validate accepts it (it needs a chopper: analog_tile, rpu_tile... have none)."""
    data = _small(yaml.safe_load((CONFIGS / "digits_sgd.yaml").read_text()))
    data["accelerator"] = f"accelerators/{acc}"
    p = _write(tmp_path, "exp.yaml", data)
    assert validate(p) is None and run_one_batch(p) is None
    data = _small(yaml.safe_load((CONFIGS / "quickstart.yaml").read_text()))
    data["accelerator"] = f"accelerators/{acc}"
    p = _write(tmp_path, "exp.yaml", data)
    v = validate(p)
    assert (v is None) == (run_one_batch(p) is None)
    if v is not None:
        assert "chopper" in v.message


BASE = _small(yaml.safe_load((CONFIGS / "quickstart.yaml").read_text()))
ACC_DATA = yaml.safe_load((CONFIGS / "accelerators" / "cttv2_tile.yaml").read_text())


@st.composite
def experiments(draw):
    """An experiment over ranges a user might try (some do not fit: validate says so)."""
    acc = copy.deepcopy(ACC_DATA)
    t = acc["tile"]
    t["rows"], t["cols"] = draw(st.sampled_from([8, 16, 64, 256])), draw(st.sampled_from([8, 32, 256]))
    t["count"] = draw(st.integers(1, 64))
    t["integration_time"] = f"{draw(st.floats(1, 1000))} ns"
    t["pulse_width"] = f"{draw(st.floats(0.5, 100))} ns"
    t["update"] = {"bl_max": draw(st.integers(1, 64))}
    per = t["periphery"]
    per["adc"].update(bits=draw(st.integers(2, 16)), columns_per_adc=draw(st.integers(1, 16)))
    per["dac"].update(bits=draw(st.integers(2, 16)),
                      encoding=draw(st.sampled_from(["amplitude", "pwm"])))
    per["tiles_per_adc_bank"] = draw(st.integers(1, 4))
    exp = copy.deepcopy(BASE)
    exp["accelerator"] = acc
    algo = draw(st.sampled_from(ALGOS))
    exp["training"] = {"algorithm": algo, "lr": draw(st.floats(1e-3, 10)),
                       "batch": draw(st.integers(1, 12)), "epochs": 1}
    exp["workload"]["dataset"]["limit_train"] = exp["training"]["batch"]
    act = draw(st.sampled_from(["sigmoid", "tanh", "relu", "none"]))
    exp["workload"]["network"] = [{"linear": draw(st.integers(1, 40)), "activation": act},
                                  {"linear": 10}]
    return exp


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exp=experiments())
def test_validate_passing_implies_one_batch_runs(tmp_path, exp):
    p = _write(tmp_path, "exp.yaml", exp)
    if validate(p) is None:
        assert run_one_batch(p) is None


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))
    else:
        yield path


def _set(node, path, value):
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


HOSTILE = [float("nan"), float("inf"), -1, 0, 1, 10 ** 9, 1e300, 1e-300, -1e300, "x", "",
           [], {}, True, None, "1 GHz", "5 ns", "1e300 s", "64 B/cycle", 2.5]
MUTABLE = {"experiment": BASE, "accelerator": ACC_DATA}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(MUTABLE)), data=st.data())
def test_mutations_fail_validate_iff_they_fail_the_run(tmp_path, which, data):
    base = copy.deepcopy(MUTABLE[which])
    leaves = [p for p in _leaves(base) if p[-1] not in ("schema_version",)]
    path = data.draw(st.sampled_from(leaves), label="key")
    value = data.draw(st.sampled_from(HOSTILE), label="value")
    _set(base, path, value)
    if which == "accelerator":
        exp = copy.deepcopy(BASE)
        exp["accelerator"] = base
    else:
        exp = base
    p = _write(tmp_path, "exp.yaml", exp)
    v, r = validate(p), run_one_batch(p)
    assert (v is None) == (r is None), (path, value, v, r)
    if v is not None:
        assert v.one_line() == r.one_line()
