"""hwsim.config.validate and the declared ranges: finite numbers, plausibility bounds with
their reasons, one declaration of the converter resolution, size budgets, file kinds."""
import math
from pathlib import Path

import pytest

from hwsim.config.accelerator import load_accelerator
from hwsim.config.blocks import ADCParams, DACParams
from hwsim.config.params import build_section, check_fields, param, section, spec_of
from hwsim.config.periphery import MVMConfig
from hwsim.config.validate import (BYTES_PER_ACTIVATION, BYTES_PER_DEVICE, MEMORY_BUDGET,
                                   TILE_BUDGET, SizeEstimate, check_size, detect_kind,
                                   estimate_size)
from hwsim.config.yamlio import load_yaml_text
from hwsim.elaborate.graph import build_machine
from hwsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
ACCS = sorted((ROOT / "configs" / "accelerators").glob("*.yaml"))


@section("t", "test section")
class _T:
    x: float = param(1.0, desc="a number", lo=0)
    t: float = param("1 ns", unit="s", desc="a time", lo=0, lo_open=True)
    r: float = param(0.5, desc="fraction", lo=0, hi=1, hi_open=True)


@pytest.mark.parametrize("key,value,fragment", [
    ("x", math.nan, "finite"), ("x", math.inf, "finite"), ("x", "nan", "parse"),
    ("t", "nan s", "parse"), ("t", ".inf", "finite"),
    ("x", 1e300, "10¹²"),                          # MAGNITUDE: no stated upper bound
    ("t", "1e300 s", "not a circuit time"),        # PLAUSIBLE["s"]
    ("r", 1.0, "[0, 1)"),                          # exclusive upper bound
])
def test_every_number_is_finite_and_bounded_with_a_reason(key, value, fragment):
    data = load_yaml_text(f"{key}: {value}\n" if not isinstance(value, float)
                          else f"{key}: {'.nan' if math.isnan(value) else ('.inf' if math.isinf(value) else value)}\n",
                          "t.yaml")
    with pytest.raises(ConfigError) as info:
        build_section(_T, data)
    assert info.value.one_line().startswith(f"t.yaml:1: {key}:"), info.value.one_line()
    assert fragment in info.value.message


def test_converter_resolution_is_declared_once():
    """MVMConfig's resolutions take the range of the converters that set them."""
    for field, conv in (("inp_res_bits", DACParams), ("out_res_bits", ADCParams)):
        a, b = spec_of(MVMConfig, field), spec_of(conv, "bits")
        assert (a.lo, a.hi) == (b.lo, b.hi) == (2, 16)
    with pytest.raises(ConfigError, match="2–16"):
        MVMConfig(out_res_bits=1)
    with pytest.raises(ConfigError, match="finite"):
        MVMConfig(out_noise=math.nan)
    check_fields(MVMConfig())                                     # the defaults are valid
    acc = load_accelerator(str(ROOT / "configs/accelerators/cttv2_tile.yaml"),
                           {"tile.periphery.adc.bits": 2, "tile.periphery.dac.bits": 16})
    cfg = acc.tile.mvm_config("forward")
    assert (cfg.inp_res_bits, cfg.out_res_bits) == (16, 2)


@pytest.mark.parametrize("path", ACCS, ids=[p.stem for p in ACCS])
def test_component_estimate_equals_the_elaborated_machine(path):
    """Independent reference: the machine elaboration actually builds."""
    acc = load_accelerator(str(path))
    assert estimate_size(acc).components == len(build_machine(acc).components)


def test_memory_estimate_is_a_hand_count():
    acc = load_accelerator(str(ROOT / "configs/accelerators/cttv2_tile.yaml"))
    # the quickstart MLP 64-32-10 with c-TTv2's 3 arrays per layer, batch 10:
    # devices 32·64 + 10·32 = 2368; activations per sample (32+64) + (10+32) = 138
    est = estimate_size(acc, [(32, 64, 1), (10, 32, 1)], roles=3, batch=10)
    assert est.device_bytes == 2368 * 3 * BYTES_PER_DEVICE
    assert est.activation_bytes == 138 * 10 * BYTES_PER_ACTIVATION
    check_size(est)


def test_budgets_refuse_unless_allowed():
    big = SizeEstimate(TILE_BUDGET + 1, 6 * (TILE_BUDGET + 1))
    with pytest.raises(ConfigError, match="--allow-large") as info:
        check_size(big, file="a.yaml")
    assert info.value.key == "tile.count" and info.value.file == "a.yaml"
    check_size(big, allow_large=True)
    check_size(SizeEstimate(TILE_BUDGET, 0))                         # the budget itself is fine
    heavy = SizeEstimate(1, 1, MEMORY_BUDGET, 1)
    with pytest.raises(ConfigError, match="GiB"):
        check_size(heavy)


@pytest.mark.parametrize("text,kind", [
    ("axes: {tile.rows: [64]}\n", "sweep"), ("workload: {}\n", "experiment"),
    ("input_shape: [64]\nnetwork: []\n", "network"), ("layers: []\n", "network"),
    ("tile: {rows: 64}\n", "accelerator"), ("name: x\n", "accelerator"),
    ("model: soft_bounds\n", "device"), ("entries: []\n", "technology"),
])
def test_file_kind_is_detected_from_its_keys(text, kind):
    assert detect_kind(load_yaml_text(text, "f.yaml")) == kind
