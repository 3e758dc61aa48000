"""DAC/ADC quantizer and periphery stage kernels against their NumPy twins."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hwsim.errors import BackendError
from hwsim.physics import quantize as qz


def bits_of(a):
    return np.ascontiguousarray(a).view(np.int64)


def test_step_and_levels_symmetric_mid_tread():
    assert qz.step_size(1.0, 7) == 1.0 / 63
    lv = qz.levels(1.0, 7)
    assert lv.size == 2 ** 7 - 1
    assert lv[0] == -1.0 and lv[-1] == 1.0 and 0.0 in lv
    np.testing.assert_array_equal(lv, -lv[::-1])
    assert qz.levels(12.0, 9).size == 511 and qz.step_size(12.0, None) == 0.0


@pytest.mark.parametrize("bits", [2, 4, 7, 9])
def test_outputs_are_nearest_levels_and_saturate(bits):
    rng = np.random.default_rng(bits)
    x = rng.uniform(-3.0, 3.0, (32, 50))
    for backend in ("cython", "numpy"):
        q, sat = qz.clip_quantize(x, 2.0, bits, backend=backend)
        lv = qz.levels(2.0, bits)
        idx = np.abs(q[..., None] - lv).argmin(axis=-1)
        np.testing.assert_allclose(q, lv[idx], rtol=0, atol=1e-12)       # on a level
        clipped = np.clip(x, -2.0, 2.0)
        assert np.all(np.abs(q - clipped) <= qz.step_size(2.0, bits) / 2 + 1e-12)  # nearest
        assert np.all(q[x >= 2.0] == 2.0) and np.all(q[x <= -2.0] == -2.0)
        assert sat == np.count_nonzero(np.abs(x) >= 2.0)


def test_ties_round_half_to_even():
    delta = qz.step_size(1.0, 3)            # 1/3: levels −1, −2/3, …, 1
    x = np.array([[0.5 * delta, 1.5 * delta, -0.5 * delta, 2.5 * delta]])
    for backend in ("cython", "numpy"):
        q, _ = qz.clip_quantize(x, 1.0, 3, backend=backend)
        np.testing.assert_allclose(q / delta, [[0.0, 2.0, 0.0, 2.0]], atol=1e-12)


def test_no_quantization_is_clip_only():
    x = np.array([[-5.0, -0.123456789, 0.5, 7.0]])
    q, sat = qz.clip_quantize(x, 1.0, None)
    np.testing.assert_array_equal(q, [[-1.0, -0.123456789, 0.5, 1.0]])
    assert sat == 2


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=24),
                  elements=st.floats(-50, 50, allow_nan=False, width=64)),
       st.floats(0.01, 20), st.one_of(st.none(), st.integers(2, 16)))
def test_kernel_bitwise_equals_numpy(x, bound, bits):
    qc, sc = qz.clip_quantize(x, bound, bits, backend="cython")
    qn, sn = qz.clip_quantize(x, bound, bits, backend="numpy")
    np.testing.assert_array_equal(bits_of(qc), bits_of(qn))
    assert sc == sn


def test_dac_and_adc_stages_bitwise_with_predrawn_noise():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (16, 40))
    scale = rng.uniform(0.2, 1.5, 16)
    noise_in = 0.01 * rng.standard_normal(x.shape)
    d = qz.step_size(1.0, 7)
    outs = []
    for use_ext in (True, False):
        sq = np.zeros(40)
        v, act = qz.dac_stage(x, scale, 1.0, d, 1 / d, 0.0, noise_in, None, sq, use_ext)
        outs.append((v, act, sq))
    np.testing.assert_array_equal(bits_of(outs[0][0]), bits_of(outs[1][0]))
    assert outs[0][1] == outs[1][1]
    np.testing.assert_allclose(outs[0][2], outs[1][2], rtol=1e-13)

    y = rng.normal(0, 6, (16, 30))
    noise_out = 0.06 * rng.standard_normal(y.shape)
    d = qz.step_size(12.0, 9)
    res = [qz.adc_stage(y, np.full(16, 0.06), noise_out, None, 12.0, d, 1 / d, scale, e)
           for e in (True, False)]
    np.testing.assert_array_equal(bits_of(res[0][0]), bits_of(res[1][0]))
    assert res[0][1] == res[1][1] == np.count_nonzero(np.abs(y + noise_out) >= 12.0)
    np.testing.assert_array_equal(res[0][2], res[1][2])
    assert res[0][2].any()                     # the test data does saturate


def test_adc_internal_noise_distribution_matches_numpy():
    y = np.zeros((400, 250))
    sd = np.full(400, 0.5)
    one = np.ones(400)
    stats = []
    for e in (True, False):
        out, _, _ = qz.adc_stage(y, sd, None, np.random.default_rng(5), 100.0, 0.0, 0.0, one, e)
        stats.append((out.mean(), out.std()))
    for mean, std in stats:
        assert abs(mean) < 0.005 and abs(std - 0.5) < 0.005


def test_ziggurat_table_and_distribution():
    from hwsim._ext import quantize as ext
    tab = ext.ziggurat_table()
    assert tab.size == 257 and np.all(np.diff(tab) < 0) and tab[-1] == 0.0
    z = qz.standard_normal(np.random.default_rng(11), (400_000,))
    assert abs(z.mean()) < 0.006 and abs(z.var() - 1) < 0.01
    assert abs(np.mean(z ** 4) - 3.0) < 0.06
    tail = np.mean(np.abs(z) > 3.7)                       # beyond the ziggurat base R
    assert 0.5 * 2.16e-4 < tail < 1.6 * 2.16e-4
    s = np.sort(z[:100_000])
    cdf = 0.5 * (1 + np.vectorize(math.erf)(s / math.sqrt(2)))
    ks = np.max(np.abs(cdf - np.arange(1, s.size + 1) / s.size))
    assert ks < 1.63 / math.sqrt(s.size)                  # KS at 1 %
    again = qz.standard_normal(np.random.default_rng(11), (400_000,))
    np.testing.assert_array_equal(z, again)               # reproducible from the seed


@pytest.mark.parametrize("bits", [0, -3, 1, 2.5, True])
def test_bad_bits(bits):
    with pytest.raises(ValueError, match="bits"):
        qz.clip_quantize(np.zeros((2, 2)), 1.0, bits)


@pytest.mark.parametrize("x", [np.array([[1.0, np.nan]]), np.array([[np.inf, 0.0]]),
                               np.zeros((2, 2, 2))])
def test_bad_input(x):
    with pytest.raises(ValueError):
        qz.clip_quantize(x, 1.0, 7)


def test_bad_bound_and_backend():
    with pytest.raises(ValueError, match="bound"):
        qz.clip_quantize(np.zeros((1, 1)), 0.0, 7)
    with pytest.raises(ValueError, match="backend"):
        qz.clip_quantize(np.zeros((1, 1)), 1.0, 7, backend="fortran")


def test_missing_kernel_raises_backend_error(monkeypatch):
    monkeypatch.setattr(qz, "_ext", None)
    with pytest.raises(BackendError, match="pip install"):
        qz.clip_quantize(np.zeros((1, 1)), 1.0, 7)
    q, _ = qz.clip_quantize(np.ones((1, 1)), 1.0, 7, backend="numpy")
    assert q[0, 0] == 1.0


def test_kernels_check_shapes_before_unchecked_loops():
    from hwsim._ext import quantize as ext
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="shape"):
        ext.clip_quantize(x, np.zeros((3, 5)), 1.0, 0.1, 10.0)
    with pytest.raises(ValueError, match="noise"):
        ext.dac_stage(x, np.ones(3), 1.0, 0.0, 0.0, 0.0, np.zeros((2, 4)), None,
                      np.zeros((3, 4)), np.zeros(4))
    with pytest.raises(ValueError, match="out"):
        ext.adc_stage(x, np.ones(3), None, None, None, 1.0, 0.0, 0.0, np.ones(3),
                      np.zeros((3, 3)), np.zeros(3, np.int8))
