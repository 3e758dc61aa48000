"""MVM through the periphery: oracle, backends, noise/bound management, statistics."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.config.periphery import MVMConfig
from hwsim.config.params import replace
from hwsim.physics import quantize as qz
from hwsim.physics.ir_drop import effective_matrix
from hwsim.physics.periphery import MVMStats, mvm

QUIET = MVMConfig(out_noise=0.0)            # default converters, no noise


def data(m=24, n=40, b=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 0.5, (m, n)), rng.uniform(-1, 1, (b, n)), rng


def quant_bound(w, x, cfg, transposed=False):
    """|y − W x| ≤ max|x|·(Δ_in/2·Σ|w| along the line + Δ_out/2) per output (noiseless)."""
    d_in = qz.step_size(cfg.inp_bound, cfg.inp_res_bits)
    d_out = qz.step_size(cfg.out_bound, cfg.out_res_bits)
    line = np.abs(w).sum(axis=0 if transposed else 1)
    m = np.abs(x).max(axis=1, keepdims=True) / cfg.inp_bound
    return m * (d_in / 2 * line + d_out / 2) + 1e-12


@pytest.mark.parametrize("transposed", [False, True])
def test_is_perfect_is_exact_product(transposed):
    w, x, rng = data()
    xx = np.random.default_rng(1).normal(size=(5, w.shape[0])) if transposed else x
    y, stats = mvm(w, xx, MVMConfig(is_perfect=True), None, transposed=transposed)
    np.testing.assert_array_equal(y, xx @ w if transposed else xx @ w.T)
    assert stats.dac_conversions == xx.size and stats.saturations == 0


def test_ideal_converters_reproduce_product():
    w, x, rng = data()
    cfg = MVMConfig(out_noise=0.0, inp_res_bits=None, out_res_bits=None, out_bound=1e6,
                    noise_management="none", inp_bound=10.0)
    y, _ = mvm(w, x, cfg, rng)
    np.testing.assert_allclose(y, x @ w.T, rtol=0, atol=1e-13)


@pytest.mark.parametrize("transposed", [False, True])
def test_quantization_error_bound_and_transposed_path(transposed):
    w, _, rng = data(m=30, n=20)
    x = rng.uniform(-3, 3, (12, 30 if transposed else 20))
    y, stats = mvm(w, x, QUIET, rng, transposed=transposed)
    exact = x @ w if transposed else x @ w.T
    assert np.all(np.abs(y - exact) <= quant_bound(w, x, QUIET, transposed))
    assert y.shape == exact.shape
    k, p = x.shape[1], exact.shape[1]
    assert stats.dac_conversions == 12 * k and stats.adc_conversions == 12 * p
    assert stats.bm_repeats == 0 and stats.saturations == 0


def test_transposed_read_equals_forward_read_of_transpose():
    w, _, rng = data(m=30, n=20)
    d = rng.uniform(-1, 1, (9, 30))
    wt = np.ascontiguousarray(w.T)
    ideal = replace(QUIET, inp_res_bits=None, out_res_bits=None)
    np.testing.assert_allclose(mvm(w, d, ideal, None, transposed=True)[0],
                               mvm(wt, d, ideal, None)[0], rtol=0, atol=1e-13)
    yt, st = mvm(w, d, MVMConfig(), np.random.default_rng(3), transposed=True)
    yf, sf = mvm(wt, d, MVMConfig(), np.random.default_rng(3))
    # same draws, same levels; BLAS summation order may move a value across a level
    assert np.mean(yt == yf) > 0.98 and st.sum_gv2 == pytest.approx(sf.sum_gv2, rel=1e-12)


@pytest.mark.parametrize("transposed", [False, True])
def test_backends_bitwise_equal_without_noise(transposed):
    w, x, rng = data(m=40, n=40, b=16, seed=4)
    w = w * 8                                   # some samples saturate → repeats
    y1, s1 = mvm(w, x, QUIET, rng, transposed=transposed)
    y2, s2 = mvm(w, x, QUIET, rng, transposed=transposed, backend="numpy")
    np.testing.assert_array_equal(y1.view(np.int64), y2.view(np.int64))
    assert s1.bm_repeats > 0
    assert (s1.dac_conversions, s1.adc_conversions, s1.saturations, s1.bm_repeats,
            s1.active_inputs) == (s2.dac_conversions, s2.adc_conversions, s2.saturations,
                                  s2.bm_repeats, s2.active_inputs)
    assert s1.sum_gv2 == pytest.approx(s2.sum_gv2, rel=1e-12)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_output_noise_in_distribution(backend):
    w, x, _ = data(m=6, n=30)
    xs = np.repeat(x[:1], 4000, axis=0)
    cfg = MVMConfig(out_res_bits=None, out_noise=0.1)
    y, _ = mvm(w, xs, cfg, np.random.default_rng(7), backend=backend)
    quiet, _ = mvm(w, x[:1], replace(cfg, out_noise=0.0), None, backend=backend)
    m = np.abs(x[0]).max()
    np.testing.assert_allclose(y.mean(axis=0), quiet[0], atol=4 * 0.1 * m / np.sqrt(4000))
    np.testing.assert_allclose(y.std(axis=0) / m, 0.1, rtol=0.06)


@pytest.mark.parametrize("kind", ["additive_constant", "relative"])
def test_weight_read_noise_variance(kind):
    w, x, _ = data(m=5, n=30)
    xs = np.repeat(x[:1], 6000, axis=0)
    cfg = MVMConfig(out_res_bits=None, inp_res_bits=None, out_noise=0.02, w_noise=0.05,
                    w_noise_type=kind)
    y, _ = mvm(w, xs, cfg, np.random.default_rng(8))
    m = np.abs(x[0]).max()
    v = x[0] / m
    wvar = 0.05 ** 2 * (np.sum(v * v) if kind == "additive_constant" else (w * w) @ (v * v))
    np.testing.assert_allclose(y.std(axis=0) / m, np.sqrt(0.02 ** 2 + wvar), rtol=0.06)


def test_noise_management_scale_invariance():
    w, x, _ = data()
    cfg = MVMConfig(out_noise=0.06)
    y1, s1 = mvm(w, x, cfg, np.random.default_rng(9))
    for c in (4.0, 1 / 1024):                        # powers of two: exact
        yc, sc = mvm(w, x * c, cfg, np.random.default_rng(9))
        np.testing.assert_array_equal(yc, y1 * c)
        assert sc == s1
    y3, _ = mvm(w, x * 3.7, QUIET, None)             # any scale: to rounding of ties
    y0, _ = mvm(w, x, QUIET, None)
    assert np.mean(np.isclose(y3, 3.7 * y0, rtol=1e-12, atol=1e-12)) > 0.98
    # without noise management a small input loses resolution
    raw, _ = mvm(w, x * 1e-3, replace(QUIET, noise_management="none"), None)
    assert np.abs(raw - 1e-3 * y0).max() > 10 * np.abs(y3 / 3.7 - y0).max()


def test_bound_management_repeats_exactly_when_saturated():
    n = 64
    w = np.full((3, n), 0.5)
    x = np.vstack([np.ones(n), 0.1 * np.ones(n), -np.ones(n)])
    x[1, 0] = 1.0                      # noise management: sample 1 → u ≈ 0.1·32+…, no saturation
    y, s = mvm(w, x, QUIET, None)
    # samples 0 and 2: |u| = 32 → 16 → 8: two repeats each, then exact
    assert s.bm_repeats == 4
    assert s.saturations == 2 * 3 * 2           # 2 samples × 3 outputs × 2 saturated passes
    assert s.dac_conversions == (3 + 4) * n and s.adc_conversions == (3 + 4) * 3
    np.testing.assert_allclose(y, x @ w.T, atol=float(quant_bound(w, x, QUIET).max()) * 4)
    y1, s1 = mvm(w, x, replace(QUIET, max_bm_repeats=1), None)
    assert s1.bm_repeats == 2 and s1.saturations == 2 * 3 * 2
    assert np.allclose(np.abs(y1[[0, 2]]), 24.0)  # still clipped at 2 × out_bound
    y0, s0 = mvm(w, x, replace(QUIET, bound_management="none"), None)
    assert s0.bm_repeats == 0 and s0.saturations == 6
    assert np.allclose(np.abs(y0[[0, 2]]), 12.0)
    np.testing.assert_array_equal(y0[1], y[1])    # the unsaturated sample is untouched


def test_sum_gv2_and_active_inputs():
    w, x, _ = data(m=10, n=16, b=6)
    x[2, :5] = 0.0
    for transposed in (False, True):
        xx = x if not transposed else np.random.default_rng(2).uniform(-1, 1, (6, 10))
        _, s = mvm(w, xx, QUIET, None, transposed=transposed)
        v, _ = qz.clip_quantize(xx / np.abs(xx).max(axis=1, keepdims=True), 1.0, 7)
        line = np.abs(w).sum(axis=1 if transposed else 0)
        assert s.sum_gv2 == pytest.approx(float((v * v).sum(axis=0) @ line), rel=1e-12)
        assert s.active_inputs == np.count_nonzero(v)


def test_zero_sample_gives_zero_and_stats_add():
    w, x, rng = data(b=3)
    x[1] = 0.0
    y, s = mvm(w, x, MVMConfig(), rng)
    assert np.all(y[1] == 0.0)
    tot = s + s
    assert tot.dac_conversions == 2 * s.dac_conversions and isinstance(tot, MVMStats)


def test_ir_drop_uses_effective_matrix():
    w, x, rng = data(m=8, n=8)
    cfg = replace(QUIET, ir_drop=0.01, inp_res_bits=None, out_res_bits=None)
    y, _ = mvm(w, x, cfg, None)
    eff = effective_matrix(w, 0.01)
    y_eff, _ = mvm(w, x, cfg, None, w_eff=eff)
    np.testing.assert_array_equal(y, y_eff)
    np.testing.assert_allclose(y, x @ eff.T, atol=1e-12)
    assert np.abs(y - x @ w.T).max() > 1e-3             # the drop is visible
    yt, _ = mvm(w, x[:, :8], cfg, None, transposed=True)
    np.testing.assert_allclose(yt, x[:, :8] @ effective_matrix(w, 0.01, transposed=True),
                               atol=1e-12)


def test_weight_scaling_omega_is_undone():
    w, x, _ = data()
    cfg = replace(QUIET, omega=0.5)
    y, s = mvm(w, x, cfg, None)
    wm = np.abs(w).max()
    bound = quant_bound(w * 0.5 / wm, x, cfg) * wm / 0.5
    assert np.all(np.abs(y - x @ w.T) <= bound)
    _, s0 = mvm(w, x, QUIET, None)
    assert s.sum_gv2 == pytest.approx(s0.sum_gv2 * 0.5 / wm)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(0, 2 ** 31),
       st.floats(0.05, 3.0), st.booleans())
def test_property_error_bound_and_backend_agreement(m, n, b, seed, wscale, transposed):
    rng = np.random.default_rng(seed)
    w = rng.uniform(-wscale, wscale, (m, n))
    x = rng.normal(size=(b, m if transposed else n))
    y, s = mvm(w, x, QUIET, None, transposed=transposed)
    y2, _ = mvm(w, x, QUIET, None, transposed=transposed, backend="numpy")
    np.testing.assert_array_equal(y, y2)
    if s.bm_repeats == 0:
        assert np.all(np.abs(y - (x @ w if transposed else x @ w.T))
                      <= quant_bound(w, x, QUIET, transposed))


@pytest.mark.parametrize("args, match", [
    ((np.zeros((3, 4)), np.zeros((2, 5))), "columns"),
    ((np.zeros((3, 4)), np.full((2, 4), np.nan)), "NaN"),
    ((np.full((3, 4), np.inf), np.zeros((2, 4))), "NaN or inf"),
    ((np.zeros((3,)), np.zeros((2, 3))), "2-D"),
    ((np.zeros((3, 4)), np.zeros((2, 2, 4))), "columns"),
])
def test_bad_input_raises_value_error(args, match):
    with pytest.raises(ValueError, match=match):
        mvm(*args, QUIET, None)


def test_bad_w_eff_rng_and_backend():
    w, x, rng = data()
    with pytest.raises(ValueError, match="shape"):
        mvm(w, x, QUIET, None, w_eff=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        mvm(w, x, QUIET, None, w_eff=np.full(w.shape, np.nan))
    with pytest.raises(ValueError, match="Generator"):
        mvm(w, x, MVMConfig(), None)
    with pytest.raises(ValueError, match="backend"):
        mvm(w, x, QUIET, None, backend="gpu")


def test_config_sections_validate():
    from hwsim.config.params import build_section, describe_section
    from hwsim.config.periphery import PCMConfig
    from hwsim.errors import ConfigError
    cfg = build_section(MVMConfig, {"inp_res_bits": None, "omega": 0.5, "out_bound": 8})
    assert cfg.inp_res_bits is None and cfg.out_bound == 8.0 and cfg.out_noise == 0.06
    for bad in ({"inp_res_bits": 0}, {"noise_management": "max"}, {"out_bound": 0},
                {"w_noise_type": "pcm"}, {"ir_drop": -1.0}):
        with pytest.raises(ConfigError):
            build_section(MVMConfig, bad)
    with pytest.raises(ConfigError):
        MVMConfig(out_res_bits=1)
    pcm = build_section(PCMConfig, {"g_max": "20 uS", "t0": "10 s"})
    assert pcm.g_max == pytest.approx(20e-6) and pcm.t0 == 10.0
    with pytest.raises(ConfigError):
        build_section(PCMConfig, {"refresh_lower": 0.8, "refresh_upper": 0.7})
    assert any("out_noise" in line for line in describe_section(MVMConfig))


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("nm", ["abs_max", "none"])
def test_read_pass_equals_the_stages_one_by_one(transposed, nm):
    """The compiled first pass (no weight noise) does what dac_front, the product and
    adc_stage do one after another: same outputs, flags and scales bit for bit, the same
    input and output noise drawn from the same streams in the same order."""
    w, x, _ = data(m=24, n=40, b=8, seed=5)
    w = w * 6                                   # some outputs saturate
    if transposed:
        x = np.ascontiguousarray(x[:, :24])
    cfg = MVMConfig(inp_noise=0.02, out_noise=0.05, noise_management=nm)
    k = x.shape[1]
    d_in, d_out = qz.step_size(1.0, cfg.inp_res_bits), qz.step_size(cfg.out_bound,
                                                                     cfg.out_res_bits)
    sq1, sq2 = np.zeros(k), np.zeros(k)
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    y1, sat1, fl1, act1, is1, os1 = qz.read_pass(
        x, w, transposed, nm == "abs_max", cfg.inp_bound, 1.5, d_in, 1 / d_in, cfg.inp_noise,
        r1, cfg.out_noise, r1, cfg.out_bound, d_out, 1 / d_out, sq1)
    v, act2, is2, os2 = qz.dac_front(x, nm == "abs_max", cfg.inp_bound, 1.5, d_in, 1 / d_in,
                                     cfg.inp_noise, r2, sq2)
    u = v @ w if transposed else v @ w.T
    y2, sat2, fl2 = qz.adc_stage(u, np.full(len(x), cfg.out_noise), None, r2, cfg.out_bound,
                                 d_out, 1 / d_out, os2, True)
    for a, b in ((y1, y2), (is1, is2), (os1, os2), (sq1, sq2)):
        np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))
    assert (sat1, act1, fl1.tolist()) == (sat2, act2, fl2.tolist())
    assert sat1 > 0 and fl1.dtype == bool
    assert qz.read_pass(np.full_like(x, np.nan), w, transposed, True, 1.0, 1.0, d_in, 1 / d_in,
                        0.0, None, 0.0, None, cfg.out_bound, d_out, 1 / d_out, sq1) is None
