"""Compiled pulse-train plans (cython_ext/pulse_plan.pyx) against the NumPy plans of
hwsim.physics.pulse_trains, bit for bit, and the cheap wrapper path of pulsed_update."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.devices import DeviceConfig
from hwsim.config.update import UpdateConfig
from hwsim.physics import update as U
from hwsim.physics.counter_rng import draw_key
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.pulse_trains import plan_mean_count, plan_stochastic_trains

plan_kernel = pytest.importorskip("hwsim._ext.pulse_plan")
pytest.importorskip("hwsim._ext.pulsed_update")


def compiled_stochastic(x, d, lr, eps, cfg):
    (nb, n), m = x.shape, d.shape[1]
    out = dict(thr_rows=np.empty((nb, m), np.uint64), thr_cols=np.empty((nb, n), np.uint64),
               sign_rows=np.empty((nb, m), np.int8), sign_cols=np.empty((nb, n), np.int8),
               bl=np.empty(nb, np.int32))
    status = plan_kernel.stochastic_plan(x, d, lr, eps, cfg.bl_max, cfg.fixed_bl,
                                         cfg.update_management, **out)
    return status, out


def compiled_mean_count(x, d, lr, eps, cfg):
    (nb, n), m = x.shape, d.shape[1]
    out = dict(row_amp=np.empty((nb, m)), col_amp=np.empty((nb, n)),
               sign_rows=np.empty((nb, m), np.int8), sign_cols=np.empty((nb, n), np.int8),
               bl=np.empty(nb, np.int32), active_rows=np.empty(nb, np.int64),
               active_cols=np.empty(nb, np.int64), totals=np.empty(3, np.int64))
    status = plan_kernel.mean_count_plan(x, d, lr, eps, cfg.bl_max, cfg.update_management,
                                         **out)
    return status, out


def assert_stochastic_plans_equal(x, d, lr, eps, cfg):
    ref = plan_stochastic_trains(x, d, lr, eps, cfg)
    status, got = compiled_stochastic(x, d, lr, eps, cfg)
    assert status == int(ref.clipped.sum())
    for name, arr in got.items():
        want = getattr(ref, name)
        assert arr.dtype == want.dtype and np.array_equal(arr, want), name
    return ref


def assert_mean_count_plans_equal(x, d, lr, eps, cfg):
    ref = plan_mean_count(x, d, lr, eps, cfg)
    status, got = compiled_mean_count(x, d, lr, eps, cfg)
    assert status == 0
    for name in ("row_amp", "col_amp", "sign_rows", "sign_cols", "bl"):
        assert np.array_equal(got[name], getattr(ref, name)), name
    assert np.array_equal(got["active_rows"], np.count_nonzero(ref.row_amp, axis=1))
    assert np.array_equal(got["active_cols"], np.count_nonzero(ref.col_amp, axis=1))
    assert got["totals"].tolist() == [int(ref.clipped.sum()), int(ref.row_slots.sum()),
                                      int(ref.col_slots.sum())]
    return ref


def edge_batch(seed, m=23, n=37, nb=9):
    """Mixed signs, ±0, zero samples, a zero x row, a zero d row, sparse ReLU-like x."""
    g = np.random.default_rng(seed)
    x, d = g.standard_normal((nb, n)), 0.01 * g.standard_normal((nb, m))
    x[0] = 0.0                                   # no input: k = 0
    d[1] = 0.0                                   # no error: k = 0
    x[2] = np.abs(x[2]) * (g.random(n) < 0.2)    # pixels / ReLU: mostly zero
    x[3, ::2] = -0.0
    d[4] *= 1e4                                  # k far above BL_max: clipped
    x[5] = x[5] * 1e-9                           # tiny k: BL 1
    return x, d


CFGS = [UpdateConfig(), UpdateConfig(fixed_bl=True), UpdateConfig(update_management=False),
        UpdateConfig(bl_max=1), UpdateConfig(bl_max=64, update_management=False, fixed_bl=True),
        UpdateConfig(bl_max=7)]


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: f"bl{c.bl_max}-um{int(c.update_management)}"
                         f"-fix{int(c.fixed_bl)}")
@pytest.mark.parametrize("lr", [0.0, 1e-3, 0.1, 3.0, 500.0])
def test_stochastic_plan_is_bitwise_the_numpy_plan(cfg, lr):
    x, d = edge_batch(int(lr * 10) + cfg.bl_max)
    ref = assert_stochastic_plans_equal(x, d, lr, 0.001, cfg)
    if lr == 0.0:
        assert np.all(ref.bl == 0) and np.all(ref.thr_rows == 0)
    else:
        assert ref.bl[0] == ref.bl[1] == 0 and np.all(ref.thr_cols[0] == 0)
        assert ref.clipped[4] and ref.bl[4] == cfg.bl_max
        assert np.all(ref.sign_cols[3, ::2] == 0)
    if lr >= 3.0 and not cfg.update_management:
        assert np.any(ref.thr_rows == 2**32) or np.any(ref.thr_cols == 2**32)   # p ≥ 1 capped


@pytest.mark.parametrize("cfg", CFGS[:4], ids=lambda c: f"bl{c.bl_max}-um{int(c.update_management)}")
@pytest.mark.parametrize("lr", [0.0, 1e-3, 0.1, 3.0, 500.0])
def test_mean_count_plan_is_bitwise_the_numpy_plan(cfg, lr):
    x, d = edge_batch(int(lr * 10) + 1)
    ref = assert_mean_count_plans_equal(x, d, lr, 0.001, cfg)
    if lr >= 3.0:
        assert ref.clipped[4] and np.all(ref.bl <= cfg.bl_max)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), nb=st.integers(1, 6), m=st.integers(1, 40),
       n=st.integers(1, 40), log_lr=st.floats(-6, 3), log_scale=st.floats(-8, 4),
       cfg=st.sampled_from(CFGS), zero_frac=st.floats(0, 1))
def test_plans_match_numpy_on_random_inputs(seed, nb, m, n, log_lr, log_scale, cfg, zero_frac):
    g = np.random.default_rng(seed)
    x = g.standard_normal((nb, n)) * (g.random((nb, n)) >= zero_frac)
    d = 10.0 ** log_scale * g.standard_normal((nb, m))
    assert_stochastic_plans_equal(x, d, 10.0 ** log_lr, 0.002, cfg)
    assert_mean_count_plans_equal(x, d, 10.0 ** log_lr, 0.002, cfg)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")       # the NumPy plan overflows
def test_non_finite_inputs_and_probabilities_are_reported():
    x, d = edge_batch(0)
    cfg = UpdateConfig()
    for bad in (np.nan, np.inf, -np.inf):
        xb, db = x.copy(), d.copy()
        xb[6, 5] = bad
        db[7, 3] = bad
        assert compiled_stochastic(xb, d, 0.1, 1e-3, cfg)[0] == plan_kernel.X_NOT_FINITE
        assert compiled_stochastic(x, db, 0.1, 1e-3, cfg)[0] == plan_kernel.D_NOT_FINITE
        assert compiled_mean_count(xb, d, 0.1, 1e-3, cfg)[0] == plan_kernel.X_NOT_FINITE
        assert compiled_mean_count(x, db, 0.1, 1e-3, cfg)[0] == plan_kernel.D_NOT_FINITE
    # k overflows to inf: the shrink factor BL_max/k is 0 and A·s·|d| = inf·0 is NaN,
    # which the NumPy plan rejects too
    big_x, big_d = np.full((1, 3), 1e200), np.full((1, 2), 1e200)
    assert compiled_stochastic(big_x, big_d, 1.0, 1e-3, cfg)[0] == plan_kernel.P_NOT_FINITE
    with pytest.raises(ValueError, match="pulse probabilities"):
        plan_stochastic_trains(big_x, big_d, 1.0, 1e-3, cfg)
    arr = DeviceArray(DeviceConfig(), (2, 3), np.random.default_rng(0))
    for backend in ("cython", "numpy"):
        with pytest.raises(ValueError, match="pulse probabilities"):
            U.pulsed_update(arr, big_x, big_d, 1.0, cfg, np.random.default_rng(0), backend)


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937,
                                           np.random.Philox, np.random.SFC64])
def test_stream_keys_are_the_draw_key_words(bit_generator):
    a, b = (np.random.Generator(bit_generator(3)) for _ in range(2))
    for g in (a, b):
        g.integers(0, 5, size=3, dtype=np.int32)      # leaves a buffered 32-bit half
    assert U._keys(a, 3) == [int(draw_key(b)) for _ in range(3)]
    assert a.random() == b.random() and a.integers(0, 9) == b.integers(0, 9)


@pytest.mark.parametrize("pulse_type", ["stochastic_compressed", "mean_count"])
@pytest.mark.parametrize("write_noise", [0.0, 0.5])
def test_training_shaped_calls_match_the_oracle_path(pulse_type, write_noise):
    """A trainer-like sequence (x ≥ 0 and sparse, float32 inputs, non-contiguous d):
    compiled plan + kernel and NumPy plan + oracle give the same weights, statistics and
    Generator state after every call."""
    cfg = DeviceConfig(model="soft_bounds", dw_min_std=0.3, count_pulses=True,
                       write_noise_std=write_noise)
    g = np.random.default_rng(5)
    arr = DeviceArray(cfg, (12, 40), g)
    arr.set_weights(g.uniform(-0.3, 0.3, arr.shape))
    twin = arr.copy()
    r1, r2 = np.random.default_rng(11), np.random.default_rng(11)
    ucfg = UpdateConfig(pulse_type=pulse_type, lumped_noise_threshold=0.0)
    for step in range(4):
        x = (g.random((10, 40)) * (g.random((10, 40)) < 0.3)).astype(np.float32)
        d = np.asfortranarray(0.05 * g.standard_normal((10, 12)))
        lr = (0.5, 0.1, 2.0, 0.0)[step]
        s1 = U.pulsed_update(arr, x, d, lr, ucfg, r1, "cython")
        s2 = U.pulsed_update(twin, x, d, lr, ucfg, r2, "numpy")
        assert np.array_equal(arr.w, twin.w) and np.array_equal(arr.pulse_count,
                                                                 twin.pulse_count)
        assert np.array_equal(arr.write_noise, twin.write_noise)
        for f in ("device_pulses", "clipped_samples", "row_pulse_slots", "col_pulse_slots",
                  "samples", "rows", "cols"):
            assert getattr(s1, f) == getattr(s2, f), f
        for f in ("pulses_per_sample", "bl_used", "active_rows", "active_cols",
                  "max_pulses_per_row"):
            v1, v2 = getattr(s1, f), getattr(s2, f)
            assert v1.dtype == v2.dtype and np.array_equal(v1, v2), f
            assert not v1.flags.writeable
        assert type(s1.device_pulses) is int and type(s1.row_pulse_slots) is int
        assert copy.deepcopy(r1).random() == copy.deepcopy(r2).random()
    assert arr.pulse_count.sum() > 0
