"""Device configs, presets and the device models of PHYSICS.md §1."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.devices import DEVICE_MODELS, DeviceConfig, list_device_presets, load_device
from hwsim.config.update import UpdateConfig, load_update
from hwsim.config.yamlio import load_yaml_text
from hwsim.devices import KernelCode, device_sections
from hwsim.errors import ConfigError
from hwsim.physics import counter_rng as crng
from hwsim.physics import device_models as dm
from hwsim.physics.device_array import DeviceArray

PRESETS = ("reram_softbounds", "reram_expstep", "ecram", "capacitor", "idealized",
           "gokmen_vlasov", "pcm")


def quiet(model="constant_step", **kw):
    """A device without spreads or noise (analytic checks)."""
    base = dict(model=model, dw_min_dtod=0.0, dw_min_std=0.0, w_max_dtod=0.0, w_min_dtod=0.0,
                up_down_dtod=0.0)
    base.update(kw)
    own = device_sections()[model].__dataclass_fields__    # the keys this model has
    return DeviceConfig(**{k: v for k, v in base.items() if k in own})


# ---- configuration ------------------------------------------------------------------
@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_with_source(name):
    cfg = load_device(name)
    assert cfg.model in DEVICE_MODELS
    assert len(cfg.source) > 20
    assert dm.nominal_granularity(cfg) > 0


def test_all_presets_listed():
    assert set(PRESETS) <= set(list_device_presets())


def test_load_device_path_and_mapping(tmp_path):
    (tmp_path / "dev.yaml").write_text("model: pow_step\npow_gamma: 2.0\n")
    cfg = load_device("dev.yaml", base_dir=tmp_path)
    assert cfg.model == "pow_step" and cfg.pow_gamma == 2.0
    assert load_device({"model": "linear_step", "linear_gamma_up": 0.5}).linear_gamma_up == 0.5


def test_unknown_key_names_file_line_and_key(tmp_path):
    (tmp_path / "dev.yaml").write_text("model: soft_bounds\ndw_mni: 0.01\n")
    with pytest.raises(ConfigError) as exc:
        load_device(str(tmp_path / "dev.yaml"))
    assert exc.value.line == 2 and exc.value.key == "dw_mni"
    assert "dw_min" in exc.value.message  # did-you-mean hint


@pytest.mark.parametrize("text, key", [
    ("dw_min: -0.001", "dw_min"), ("model: banana", "model"), ("w_min: 0.7", "w_min"),
    ("stuck_fraction: 1.5", "stuck_fraction"),
    ("model: piecewise_step\npiecewise_up: [1.0]", "piecewise_up"),
])
def test_bad_values_are_config_errors(text, key):
    with pytest.raises(ConfigError) as exc:
        load_device(load_yaml_text(text, "dev.yaml"))
    assert exc.value.key.endswith(key)


def test_unknown_preset_and_bad_update_config():
    with pytest.raises(ConfigError, match="unknown device preset"):
        load_device("no_such_device")
    with pytest.raises(ConfigError):
        load_update({"bl_max": 0})
    with pytest.raises(ConfigError):
        load_update({"pulse_type": "magic"})
    assert load_update(None) == UpdateConfig()


# ---- granularity and states -----------------------------------------------------------
def test_granularity_and_states_per_model():
    assert dm.nominal_granularity(quiet(dw_min=0.002)) == 0.002
    assert dm.number_of_states(load_device("idealized")) == pytest.approx(12000)
    assert dm.number_of_states(load_device("gokmen_vlasov")) == pytest.approx(1200)
    pw = quiet("pow_step", pow_gamma=2.0)
    assert dm.nominal_granularity(pw) == pytest.approx(0.001 * 0.25)
    ex = quiet("exp_step", exp_a=1.0, exp_b=0.0, exp_A_up=0.1, exp_gamma_up=3.0)
    assert dm.nominal_granularity(ex) == pytest.approx(0.001 * 0.9)
    pcm = load_device("pcm")  # up step at w = 0: 1 + 27.235
    assert dm.nominal_granularity(pcm) == pytest.approx(0.01 * 28.235)
    assert dm.number_of_states(pcm) == pytest.approx(2.0 / (0.01 * 28.235))


# ---- per-device draws -----------------------------------------------------------------
def test_step_sizes_and_asymmetry_formula():
    arr = DeviceArray(quiet(up_down=0.1), (3, 4), np.random.default_rng(0))
    assert np.allclose(arr.dw_up, 0.001) and np.allclose(arr.dw_down, 0.001 * 0.9)
    arr = DeviceArray(quiet(up_down=-0.2), (3, 4), np.random.default_rng(0))
    assert np.allclose(arr.dw_up, 0.001 * 0.8) and np.allclose(arr.dw_down, 0.001)


def test_bounds_keep_their_sign_and_draws_are_reproducible():
    cfg = DeviceConfig(w_max_dtod=1.5, w_min_dtod=1.5)
    a = DeviceArray(cfg, (40, 50), np.random.default_rng(3))
    b = DeviceArray(cfg, (40, 50), np.random.default_rng(3))
    assert np.all(a.b_min < 0) and np.all(a.b_max > 0)
    assert np.array_equal(a.b_max, b.b_max) and np.array_equal(a.dw_up, b.dw_up)
    assert a.w.dtype == np.float32 and a.w.flags.c_contiguous and a.w.shape == (40, 50)
    # run.precision float64 (reference runs): the same draws, unrounded
    c = DeviceArray(cfg, (40, 50), np.random.default_rng(3), "float64")
    assert c.w.dtype == c.b_max.dtype == c.p_up.dtype == np.float64
    assert np.array_equal(c.b_max.astype(np.float32), a.b_max)
    assert a.reference.dtype == np.float64          # reads stay float64


def test_stuck_devices_have_zero_step():
    arr = DeviceArray(DeviceConfig(stuck_fraction=0.3), (50, 40), np.random.default_rng(1))
    frac = arr.stuck.mean()
    assert abs(frac - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 2000)
    assert np.all(arr.dw_up[arr.stuck] == 0) and np.all(arr.dw_down[arr.stuck] == 0)
    assert np.all(arr.dw_up[~arr.stuck] > 0)


# ---- step models ---------------------------------------------------------------------
def test_soft_bounds_steps_vanish_at_bounds_and_symmetry_point_formula():
    # closed forms of the model: float64 state (float32 rounds the slope 1/b±)
    arr = DeviceArray(DeviceConfig(model="soft_bounds", up_down=0.05), (20, 30),
                      np.random.default_rng(2), "float64")
    assert np.allclose(arr.step_sizes(True, arr.b_max), 0.0, atol=1e-18)
    assert np.allclose(arr.step_sizes(False, arr.b_min), 0.0, atol=1e-18)
    dp, dn = arr.dw_up, arr.dw_down
    formula = (dp - dn) / (dp / arr.b_max - dn / arr.b_min)
    ws = arr.symmetry_point()
    assert np.allclose(ws, np.clip(formula, arr.b_min, arr.b_max))
    assert np.allclose(arr.step_sizes(True, ws), arr.step_sizes(False, ws), atol=1e-15)
    # linear SoftBounds step: Δ⁺(1 - w/b_max)
    w = 0.3 * arr.b_max
    assert np.allclose(arr.step_sizes(True, w), dp * 0.7)


@pytest.mark.parametrize("model, kw", [
    ("exp_step", {}), ("pow_step", {"pow_gamma": 2.0}), ("linear_step",
     {"linear_gamma_up": 0.5, "linear_gamma_down": 0.3}),
    ("piecewise_step", {"piecewise_up": (1.5, 1.0, 0.2), "piecewise_down": (0.1, 1.0, 1.3)}),
    ("response_offset", {"response_offset": 0.2}), ("response_power", {"response_gamma": 2.0}),
    ("response_exp", {"response_gamma": 2.0}),
])
def test_symmetry_point_balances_up_and_down(model, kw):
    arr = DeviceArray(DeviceConfig(model=model, **kw), (8, 9), np.random.default_rng(4))
    ws = arr.symmetry_point()
    up, dn = arr.step_sizes(True, ws), arr.step_sizes(False, ws)
    inside = (ws > arr.b_min + 1e-12) & (ws < arr.b_max - 1e-12)
    assert inside.mean() > 0.5
    assert np.allclose(up[inside], dn[inside], rtol=1e-6, atol=1e-12)
    # a w⋄ clipped to a bound: the balance would lie beyond it
    at_top = ws >= arr.b_max - 1e-12
    assert np.all(up[at_top] >= dn[at_top]) and np.all(up[ws <= arr.b_min + 1e-12] <=
                                                        dn[ws <= arr.b_min + 1e-12])


def test_constant_step_has_no_symmetry_point():
    assert np.all(np.isnan(DeviceArray(DeviceConfig(model="constant_step"), (2, 2),
                                       np.random.default_rng(0)).symmetry_point()))


def test_response_families_match_wu_formulas():
    tau, c, gam, w = 0.6, 0.2, 2.0, np.linspace(-0.5, 0.5, 11)
    cases = {
        "response_linear": (1 - w / tau, 1 + w / tau),
        "response_offset": ((1 + c) * (1 - w / tau), (1 - c) * (1 + w / tau)),
        "response_power": ((1 - w / tau) ** gam, (1 + w / tau) ** gam),
        "response_exp": ((np.exp(gam * (1 - w / tau)) - 1) / (np.exp(gam) - 1),
                         (np.exp(gam * (1 + w / tau)) - 1) / (np.exp(gam) - 1)),
    }
    for model, (qp, qm) in cases.items():
        arr = DeviceArray(quiet(model, response_tau=tau, response_offset=c, response_gamma=gam,
                                w_max=1.0, w_min=-1.0), (1, 11), np.random.default_rng(0),
                          "float64")    # closed forms to 1e-12: float64 state
        assert np.allclose(arr.step_sizes(True, w[None]) / 0.001, qp, rtol=1e-12), model
        assert np.allclose(arr.step_sizes(False, w[None]) / 0.001, qm, rtol=1e-12), model


def test_exp_and_pow_step_formulas():
    cfg = quiet("exp_step", exp_a=0.7, exp_b=-0.2, exp_A_up=0.1, exp_A_down=0.2,
                exp_gamma_up=2.0, exp_gamma_down=3.0)
    arr = DeviceArray(cfg, (1, 5), np.random.default_rng(0), "float64")   # closed forms
    w = np.linspace(-0.5, 0.5, 5)[None]
    z = 2 * 0.7 * w / 1.2 - 0.2
    assert np.allclose(arr.step_sizes(True, w), 0.001 * np.maximum(0, 1 - 0.1 * np.exp(2 * z)))
    assert np.allclose(arr.step_sizes(False, w), 0.001 * np.maximum(0, 1 - 0.2 * np.exp(-3 * z)))
    arr = DeviceArray(quiet("pow_step", pow_gamma=1.5), (1, 5), np.random.default_rng(0),
                      "float64")
    assert np.allclose(arr.step_sizes(True, w), 0.001 * ((0.6 - w) / 1.2) ** 1.5)
    assert np.allclose(arr.step_sizes(False, w), 0.001 * ((w + 0.6) / 1.2) ** 1.5)
    # the bitwise oracle path (libm) agrees with the NumPy path
    for up in (True, False):
        a = dm.q_step(KernelCode.POW, up, w, arr.p_up[:, :5], arr.p_down[:, :5], arr.b_min, arr.b_max,
                      arr.scalars, None)
        assert np.allclose(a, arr.step_sizes(up, w) / 0.001, rtol=1e-14)


# ---- non-idealities ------------------------------------------------------------------
def test_decay_reference_and_diffusion():
    cfg = quiet(lifetime=10.0, decay_target=0.1, ref_mean=0.05, ref_std=0.0, diffusion=0.01)
    arr = DeviceArray(cfg, (100, 100), np.random.default_rng(0))
    arr.set_weights(np.full((100, 100), 0.5))
    arr.apply_decay()
    assert np.allclose(arr.w, (0.5 - 0.1) * 0.9 + 0.1)
    assert np.allclose(arr.visible_weights(), arr.w - 0.05)
    before = arr.w.copy()
    arr.apply_diffusion(np.random.default_rng(1))
    assert np.std(arr.w - before) == pytest.approx(0.01, rel=0.05)


def test_write_noise_redrawn_only_where_touched():
    arr = DeviceArray(quiet(write_noise_std=2.0), (10, 10), np.random.default_rng(0))
    touched = np.zeros((10, 10), bool)
    touched[3] = True
    arr.redraw_write_noise(touched, np.random.default_rng(1))
    assert np.all(arr.write_noise[~touched] == 0) and np.all(arr.write_noise[3] != 0)
    assert np.allclose(arr.visible_weights(), arr.w + arr.write_noise)


# ---- counter-based random numbers ------------------------------------------------------
def test_table_normal_moments_and_bernoulli_rate():
    mean, var = crng.normal_table_moments()
    assert mean == 0.0 and abs(var - 1.0) < 1e-4
    z = crng.normal_from_words(crng.rand64(np.uint64(99), np.arange(400_000)))
    se = 1 / math.sqrt(z.size)
    assert abs(z.mean()) < 5 * se and abs(z.var() - 1) < 5 * math.sqrt(2) * se
    h = crng.rand64(np.uint64(5), np.arange(200_000))
    thr = crng.bernoulli_thresholds(np.array([0.3]))[0]
    rate = np.mean((h & np.uint64(0xFFFFFFFF)) < thr)
    assert abs(rate - 0.3) < 5 * math.sqrt(0.21 / h.size)


def test_bad_probabilities_are_value_errors():
    for bad in ([-0.1], [1.2], [np.nan]):
        with pytest.raises(ValueError, match="probabilities"):
            crng.bernoulli_thresholds(np.array(bad))


@settings(max_examples=25, deadline=None)
@given(model=st.sampled_from(DEVICE_MODELS), seed=st.integers(0, 2**31),
       w=st.floats(-2.0, 2.0))
def test_set_weights_clips_into_device_bounds(model, seed, w):
    arr = DeviceArray(DeviceConfig(model=model), (3, 4), np.random.default_rng(seed))
    arr.set_weights(np.full((3, 4), w))
    assert np.all(arr.w >= arr.b_min) and np.all(arr.w <= arr.b_max)
    with pytest.raises(ValueError):
        arr.set_weights(np.full((3, 4), np.nan))


@pytest.mark.parametrize("cols", [[3, 4, 5, 6], [6, 5, 4], [0, 2, 1], [7], [2, 9, 0, 1],
                                  np.array([4, 5], np.int32)])
@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_visible_columns_equal_columns_of_visible_weights(cols, noise):
    """Runs of columns (read through slices) and any other selection give the columns of
    visible_weights exactly, write noise and reference included."""
    cfg = DeviceConfig(model="soft_bounds", write_noise_std=noise, ref_std=0.2)
    arr = DeviceArray(cfg, (5, 10), np.random.default_rng(3))
    arr.set_weights(np.random.default_rng(4).uniform(-0.5, 0.5, (5, 10)),
                    np.random.default_rng(5))
    got = arr.visible_columns(np.asarray(cols))
    want = arr.visible_weights()[:, np.asarray(cols)]
    assert got.shape == want.shape and np.array_equal(got, want)
    got[:] = 7.0                                  # a fresh array, never a view
    assert not np.any(arr.visible_weights() == 7.0)
