"""The device-model registry (hwsim/devices): one module per model, kernel codes checked
against the compiled kernel, each file validated against its own model's section."""
from __future__ import annotations

import ast
import copy
import pickle
import sys
from dataclasses import asdict, fields
from pathlib import Path

import pytest

import hwsim.devices as devices
from hwsim.devices import DeviceConfig, load_device
from hwsim.config.params import describe_section
from hwsim.config.yamlio import load_yaml_text
from hwsim.devices import KernelCode, check_kernel_codes, device_schema, device_sections
from hwsim.errors import BackendError, ConfigError

PKG = Path(devices.__file__).parent
#: the rows of the PHYSICS.md §1 table, then the Wu et al. (2024) response families
SHIPPED = ("constant_step", "linear_step", "soft_bounds", "exp_step", "pow_step",
           "piecewise_step", "response_linear", "response_offset", "response_power",
           "response_exp")


def test_shipped_models_in_table_order_each_with_kernel_docs_and_citation():
    secs = device_sections()
    assert tuple(secs)[:len(SHIPPED)] == SHIPPED
    for name in SHIPPED:
        cls = secs[name]
        assert isinstance(cls.kernel, KernelCode), name
        assert cls.__dataclass_fields__["model"].default == name
        module_doc = sys.modules[cls.__module__].__doc__
        assert "q" in module_doc and any(y in module_doc for y in ("2016", "2023", "2024")), name


def test_compiled_codes_equal_the_enum_and_a_mismatch_raises():
    for mod in ("hwsim._ext.pulsed_update", "hwsim._ext.pulse_counts",
                "hwsim._ext.pulsed_update32", "hwsim._ext.pulse_counts32"):
        kernel = pytest.importorskip(mod)
        # the enum of cython_ext/pulse_device.pxi, written out: CONSTANT 0 … REXP 6
        assert kernel.model_codes() == {"CONSTANT": 0, "LINEAR": 1, "EXP": 2, "POW": 3,
                                        "PIECEWISE": 4, "RPOWER": 5, "REXP": 6}
        check_kernel_codes(kernel.model_codes(), mod)
    swapped = {c.name: int(c) for c in KernelCode} | {"EXP": 3, "POW": 2}
    with pytest.raises(BackendError, match="rebuild"):
        check_kernel_codes(swapped, "stale.so")
    with pytest.raises(BackendError):
        check_kernel_codes({c.name: int(c) for c in KernelCode if c.name != "REXP"}, "old.so")


_ALLOWED = {"hwsim.config.params", "hwsim.config.yamlio", "hwsim.errors", "hwsim.devices",
            "numpy", "math", "enum", "__future__", "dataclasses",
            "pathlib"}                      # the loader finds the preset files


@pytest.mark.parametrize("path", sorted(PKG.glob("*.py")), ids=lambda p: p.name)
def test_device_modules_import_only_config_params_and_numpy(path):
    """The layer between config and physics: no physics, no kernels, no engine."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) else []
        for n in names:
            if not any(n == a or n.startswith(a + ".") for a in _ALLOWED):
                bad.append(f"{path.name}:{node.lineno} imports {n}")
    assert not bad


def test_no_magic_model_integers_in_the_physics_layer():
    """Model codes are KernelCode members: no comparison of a model code with a literal."""
    root = PKG.parent / "physics"
    bad = []
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and "model_code" in ast.unparse(node) and any(
                    isinstance(c, ast.Constant) and isinstance(c.value, int)
                    for c in [node.left, *node.comparators]):
                bad.append(f"{path.name}:{node.lineno}")
    assert not bad


# ---- files are validated against their own model --------------------------------------
def _load(text):
    return load_device(load_yaml_text(text, "dev.yaml"))


def test_a_key_of_another_model_is_an_error_with_file_line_key(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text("model: constant_step\ndw_min: 0.002\nlinear_gamma_up: 0.5\n")
    with pytest.raises(ConfigError) as exc:
        load_device(path)
    e = exc.value
    assert (e.file, e.line, e.key) == (str(path), 3, "linear_gamma_up")
    assert "linear_step" in e.message and "constant_step" in e.message
    # the same key is accepted by the model that declares it
    assert _load("model: linear_step\nlinear_gamma_up: 0.5\n").linear_gamma_up == 0.5


def test_unknown_model_and_typo_keys():
    with pytest.raises(ConfigError) as exc:
        _load("dw_min: 0.002\nmodel: banana_step\n")
    assert (exc.value.line, exc.value.key) == (2, "device.model")
    assert "soft_bounds" in exc.value.message          # lists the known models
    with pytest.raises(ConfigError) as exc:
        _load("model: pow_step\npow_gama: 2.0\n")
    assert (exc.value.line, exc.value.key) == (2, "device.pow_gama") and "pow_gamma" in exc.value.message
    with pytest.raises(ConfigError) as exc:
        load_device({"model": "exp_step", "pow_gamma": 2.0})
    assert exc.value.key == "device.pow_gamma"


def test_each_model_has_only_its_own_parameters():
    secs = device_sections()
    names = {m: {f.name for f in fields(c)} for m, c in secs.items()}
    shared = set.intersection(*names.values())
    assert {"dw_min", "dw_min_dtod", "dw_min_std", "w_max_dtod", "stuck_fraction"} <= shared
    assert names["constant_step"] == shared and names["soft_bounds"] == shared
    assert names["pow_step"] - shared == {"pow_gamma", "pow_gamma_dtod"}
    assert names["exp_step"] - shared == {"exp_a", "exp_b", "exp_A_up", "exp_A_down",
                                          "exp_gamma_up", "exp_gamma_down"}
    assert names["response_exp"] - shared == {"response_tau", "response_gamma"}


def test_presets_keep_their_values():
    # numbers copied from configs/devices/pcm.yaml and ecram.yaml (Nandakumar et al. 2020;
    # Tang et al. 2018): the values a preset file sets are the values loaded
    pcm = load_device("pcm")
    assert type(pcm).__name__ == "ExpStep"
    assert (pcm.exp_A_up, pcm.exp_gamma_up, pcm.exp_a, pcm.w_max, pcm.dw_min_std_add) == \
        (-27.235, 2.5, -1.0, 2.0, 0.042)
    ecram = load_device("ecram")
    assert (ecram.model, ecram.linear_gamma_up, ecram.linear_gamma_dtod, ecram.dw_min) == \
        ("linear_step", 0.1, 0.1, 0.0012)


# ---- describe and schema ------------------------------------------------------------------
def test_describe_and_schema_list_each_models_parameters():
    secs = device_sections()
    text = "\n".join(describe_section(secs["pow_step"]))
    assert "pow_gamma:" in text and "exp_A_up" not in text
    schema = device_schema()
    by_model = {v["properties"]["model"]["enum"][0]: v for v in schema["oneOf"]}
    assert list(by_model) == list(secs)
    assert "pow_gamma" in by_model["pow_step"]["properties"]
    assert "pow_gamma" not in by_model["constant_step"]["properties"]
    assert all(v["additionalProperties"] is False for v in schema["oneOf"])


def test_pickles_round_trip_and_a_flat_pre_split_state_becomes_its_model():
    cfg = load_device({"model": "pow_step", "pow_gamma": 2.0})
    assert pickle.loads(pickle.dumps(cfg)) == cfg and copy.deepcopy(cfg) == cfg
    # what a checkpoint of the flat DeviceConfig held: every model's fields
    flat = asdict(cfg) | {"linear_gamma_up": 0.0, "exp_a": 1.0, "response_tau": 0.6}
    old = DeviceConfig.__new__(DeviceConfig)
    old.__setstate__(flat)
    assert type(old) is type(cfg) and old == cfg and not hasattr(old, "exp_a")
