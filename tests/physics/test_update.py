"""The pulsed update (PHYSICS.md §2): kernel vs NumPy oracle, statistics, clipping, errors."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.devices import DEVICE_MODELS, DeviceConfig
from hwsim.config.update import UpdateConfig
from hwsim.devices import device_sections
from hwsim.errors import BackendError
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.pulse_trains import pack_trains, plan_stochastic_trains
from hwsim.physics.update import apply_pulses, pulsed_update, serial_write

kernel = pytest.importorskip("hwsim._ext.pulsed_update")

MODEL_KW = dict(linear_gamma_up=0.5, linear_gamma_down=0.3, piecewise_up=(1.5, 1.0, 0.2),
                piecewise_down=(0.2, 1.0, 1.4), response_offset=0.2, response_gamma=2.0,
                pow_gamma=1.5)


def device(model, **kw):
    """``model``'s section with the keys of MODEL_KW that model has (each model's own)."""
    own = device_sections()[model].__dataclass_fields__
    return DeviceConfig(model=model, **{k: v for k, v in {**MODEL_KW, **kw}.items() if k in own})


def quiet(model="constant_step", **kw):
    base = dict(dw_min_dtod=0.0, dw_min_std=0.0, w_max_dtod=0.0, w_min_dtod=0.0,
                up_down_dtod=0.0)
    return device(model, **{**base, **kw})


#: the state precision of this module's arrays: every test runs in float32 (the
#: default, as aihwkit) and float64 (reference runs), kernel = oracle bit for bit in both
PRECISION = ["float32"]


@pytest.fixture(autouse=True, scope="module", params=["float32", "float64"])
def precision(request):
    PRECISION[0] = request.param
    yield request.param
    PRECISION[0] = "float32"


def kern():
    """The compiled kernel module of this run's precision."""
    return pytest.importorskip("hwsim._ext.pulsed_update" +
                               ("32" if PRECISION[0] == "float32" else ""))


def twins(cfg, shape=(13, 17), seed=0):
    a = DeviceArray(cfg, shape, np.random.default_rng(seed), PRECISION[0])
    assert a.w.dtype == np.dtype(PRECISION[0])
    a.set_weights(np.random.default_rng(seed + 1).uniform(-0.3, 0.3, shape))
    return a, a.copy()


def same(a, b):
    assert np.array_equal(a.w, b.w)
    assert np.array_equal(a.write_noise, b.write_noise)
    if a.pulse_count is not None:
        assert np.array_equal(a.pulse_count, b.pulse_count)


def same_stats(s1, s2):
    for f in ("pulse_type", "scheme", "samples", "rows", "cols", "device_pulses",
              "clipped_samples", "row_pulse_slots", "col_pulse_slots", "row_steps"):
        assert getattr(s1, f) == getattr(s2, f), f
    for f in ("pulses_per_sample", "bl_used", "active_rows", "active_cols",
              "max_pulses_per_row"):
        assert np.array_equal(getattr(s1, f), getattr(s2, f)), f


def batch(seed, b, m, n, d_scale=1.0):
    g = np.random.default_rng(seed)
    return g.standard_normal((b, n)), d_scale * g.standard_normal((b, m))


# ---- bitwise oracle agreement ------------------------------------------------------------
@pytest.mark.parametrize("model", DEVICE_MODELS)
@pytest.mark.parametrize("pulse_type", ["stochastic_compressed", "mean_count"])
def test_kernel_matches_oracle_bitwise(model, pulse_type):
    cfg = device(model, dw_min_std_add=0.1, write_noise_std=1.0, count_pulses=True)
    a, b = twins(cfg)
    x, d = batch(1, 6, 13, 17)
    ucfg = UpdateConfig(pulse_type=pulse_type, lumped_noise_threshold=0.0)
    for strategy in ("auto", "pairs", "slots"):
        s1 = pulsed_update(a, x, d, 0.05, ucfg, np.random.default_rng(7), "cython",
                           strategy=strategy)
        s2 = pulsed_update(b, x, d, 0.05, ucfg, np.random.default_rng(7), "numpy")
        same(a, b)
        same_stats(s1, s2)
        assert s1.device_pulses > 0 and a.pulse_count.sum() > 0


@pytest.mark.parametrize("pulse_type", ["stochastic_compressed", "mean_count"])
def test_lumped_constant_step_matches_oracle(pulse_type):
    cfg = device("constant_step", dw_min_std=0.2, dw_min_std_add=0.05, count_pulses=True)
    a, b = twins(cfg)
    x, d = batch(2, 5, 13, 17)
    ucfg = UpdateConfig(pulse_type=pulse_type, lumped_noise_threshold=0.5)
    for strategy in ("auto", "pairs", "slots"):
        s1 = pulsed_update(a, x, d, 0.5, ucfg, np.random.default_rng(3), "cython",
                           strategy=strategy)
        s2 = pulsed_update(b, x, d, 0.5, ucfg, np.random.default_rng(3), "numpy")
        same(a, b)
        same_stats(s1, s2)
        # same x, d and seed each round: the trains repeat, the counter accumulates
        rounds = 1 + ("auto", "pairs", "slots").index(strategy)
        assert int(a.pulse_count.sum()) == rounds * s1.device_pulses > 0


def test_stats_of_kernel_and_oracle_agree_field_by_field():
    a, b = twins(device("soft_bounds"))
    x, d = batch(3, 4, 13, 17)
    s1 = pulsed_update(a, x, d, 0.3, UpdateConfig(), np.random.default_rng(1), "cython")
    s2 = pulsed_update(b, x, d, 0.3, UpdateConfig(), np.random.default_rng(1), "numpy")
    same_stats(s1, s2)
    for f in ("pulses_per_sample", "bl_used", "active_rows", "active_cols"):
        assert getattr(s1, f).shape == (4,)
        assert not getattr(s1, f).flags.writeable
    assert s1.row_pulse_slots >= s1.active_rows.sum() and s1.pulse_slots == s1.bl_used.sum()


@pytest.mark.parametrize("model", DEVICE_MODELS)
def test_apply_pulses_and_serial_write_match_oracle(model):
    a, b = twins(device(model, count_pulses=True, write_noise_std=0.5))
    n = np.random.default_rng(4).integers(-40, 41, a.shape)
    assert apply_pulses(a, n, np.random.default_rng(5)) == \
        apply_pulses(b, n, np.random.default_rng(5), "numpy") == int(np.abs(n).sum())
    same(a, b)
    t = np.random.default_rng(6).normal(0, 0.01, a.shape)
    r1 = serial_write(a, t, np.random.default_rng(8), max_pulses=7)
    r2 = serial_write(b, t, np.random.default_rng(8), max_pulses=7, backend="numpy")
    same(a, b)
    assert r1.pulses == r2.pulses and r1.row_steps == r2.row_steps
    assert np.all(r1.max_pulses_per_row <= 7)


@pytest.mark.parametrize("vector", [True, False])
@pytest.mark.parametrize("lines", [33, 8, 3])          # vector tails of 1, 0 and 3 lines
def test_packing_kernel_matches_oracle(vector, lines):
    """The AVX-512 packing (8 lines per step) and the scalar packing equal the oracle."""
    g = np.random.default_rng(lines)
    thr = np.floor(g.random((7, lines)) * 2.0**32).astype(np.uint64)
    thr[0, :5] = 0
    thr[1, :5] = np.uint64(2**32)
    thr[4, :] = 0                                      # a sample without activity
    bl = np.array([1, 2, 31, 64, 17, 0, 5], np.int32)
    had = kern().simd()
    try:
        kern().simd(vector)
        masks = kernel.pack_lines(thr, bl, np.uint64(12345))
    finally:
        kern().simd(had)
    assert np.array_equal(masks, pack_trains(thr, bl, np.uint64(12345)))
    assert np.all(masks[0, :5] == 0) and np.all(masks[1, :5] == 3) and np.all(masks[5] == 0)
    assert np.all(masks[4] == 0) and np.count_nonzero(masks[3]) > lines // 2


# ---- statistics of the stochastic update ------------------------------------------------
@pytest.mark.parametrize("noise", [0.0, 0.3])
@pytest.mark.parametrize("lumped", [0.0, 1.0])
def test_expected_change_is_minus_lr_d_xT(noise, lumped):
    """Mean per-sample change over many samples equals −η d xᵀ within sampling error."""
    cfg = quiet(dw_min_std=noise, w_max=50.0, w_min=-50.0)   # far from the bounds
    arr = DeviceArray(cfg, (3, 4), np.random.default_rng(0))
    x1, d1 = np.array([0.9, -0.5, 0.2, 0.0]), np.array([0.6, -1.0, 0.3])
    reps, lr = 4000, 0.004                      # k = 3.6: BL = 4, nothing clips
    x, d = np.tile(x1, (reps, 1)), np.tile(d1, (reps, 1))
    stats = pulsed_update(arr, x, d, lr, UpdateConfig(lumped_noise_threshold=lumped),
                          np.random.default_rng(1))
    assert stats.clipped_samples == 0 and np.all(stats.bl_used == 4)
    mean = arr.w / reps
    expect = -lr * np.outer(d1, x1)
    # one sample: n ~ Binomial(BL, p_r p_c), each pulse ε(1 + σξ)
    eps, p = 0.001, np.abs(expect) / 0.001 / 4
    var = eps**2 * 4 * (p * (1 - p) + p * noise**2)
    se = np.sqrt(var / reps)
    assert np.all(np.abs(mean - expect) <= 5 * se + 1e-12)
    assert np.all(arr.w[:, 3] == 0)             # x_j = 0 never fires


def test_clipping_exactly_when_k_exceeds_bl_max():
    arr = DeviceArray(quiet(w_max=10.0, w_min=-10.0), (2, 2), np.random.default_rng(0))
    x = np.array([[1.0, 0.5]] * 4)
    d = np.array([[1.0, -0.2]] * 4)
    for k, clipped, bl in ((30.9, 0, 31), (31.0, 0, 31), (31.01, 4, 31), (100.0, 4, 31),
                           (2.5, 0, 3)):
        lr = k * 0.001
        plan = plan_stochastic_trains(x, d, lr, 0.001, UpdateConfig())
        assert plan.k == pytest.approx(k)
        s = pulsed_update(arr, x, d, lr, UpdateConfig(), np.random.default_rng(0))
        assert s.clipped_samples == clipped and np.all(s.bl_used == bl)
        # update management: the busiest row and column fire with the same probability ≤ 1
        assert plan.p_rows.max() == pytest.approx(plan.p_cols.max())
        assert plan.p_rows.max() <= 1.0
        if clipped:
            assert plan.p_rows.max() == pytest.approx(1.0)


def test_mean_count_is_exact_and_clips_like_update_management():
    arr = DeviceArray(quiet(w_max=10.0, w_min=-10.0), (2, 3), np.random.default_rng(0))
    x, d = np.array([[1.0, 0.5, -0.25]]), np.array([[0.8, -0.4]])
    pulsed_update(arr, x, d, 0.01, UpdateConfig(pulse_type="mean_count"),
                  np.random.default_rng(0))
    n = np.floor(np.abs(0.01 * np.outer(d[0], x[0])) / 0.001 + 0.5)
    assert np.allclose(arr.w, -np.sign(np.outer(d[0], x[0])) * n * 0.001)
    arr.set_weights(np.zeros((2, 3)))
    s = pulsed_update(arr, x, d, 0.1, UpdateConfig(pulse_type="mean_count"),
                      np.random.default_rng(0))        # k = 80 > 31: shrink by 31/80
    n = np.floor(np.abs(0.1 * 31 / 80 * np.outer(d[0], x[0])) / 0.001 + 0.5)
    assert s.clipped_samples == 1 and s.bl_used[0] == 31
    assert np.allclose(arr.w, -np.sign(np.outer(d[0], x[0])) * n * 0.001)


def test_ideal_and_serial_schemes():
    arr = DeviceArray(quiet(w_max=10.0, w_min=-10.0), (3, 4), np.random.default_rng(0))
    x, d = batch(5, 3, 3, 4)
    s = pulsed_update(arr, x, d, 0.05, UpdateConfig(pulse_type="none_pulsed"),
                      np.random.default_rng(0))
    assert np.allclose(arr.w, -0.05 * d.T @ x) and s.device_pulses == 0
    arr.set_weights(np.zeros((3, 4)))
    s = pulsed_update(arr, x, d, 0.001, UpdateConfig(scheme="serial_row", serial_max_pulses=3),
                      np.random.default_rng(0))
    n = np.minimum(np.floor(np.abs(0.001 * d.T @ x) / 0.001 + 0.5), 3)
    assert np.allclose(arr.w, -np.sign(d.T @ x) * n * 0.001)
    assert s.row_steps == int(np.count_nonzero(n.max(axis=1)))
    assert s.device_pulses == int(n.sum())


# ---- properties --------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(model=st.sampled_from(DEVICE_MODELS), seed=st.integers(0, 2**31),
       lr=st.floats(0.0, 2.0), pulse_type=st.sampled_from(["stochastic_compressed",
                                                            "mean_count"]))
def test_weights_never_leave_device_bounds(model, seed, lr, pulse_type):
    arr = DeviceArray(device(model, dw_min=0.05, dw_min_std=0.8, dw_min_std_add=0.3),
                      (5, 6), np.random.default_rng(seed), PRECISION[0])
    x, d = batch(seed, 4, 5, 6, d_scale=3.0)
    s = pulsed_update(arr, x, d, lr, UpdateConfig(pulse_type=pulse_type),
                      np.random.default_rng(seed))
    assert np.all(arr.w >= arr.b_min) and np.all(arr.w <= arr.b_max)
    assert arr.w.dtype == np.dtype(PRECISION[0]) and arr.w.shape == (5, 6) and \
        arr.w.flags.c_contiguous
    assert s.bl_used.dtype == np.int32 and s.pulses_per_sample.shape == (4,)
    assert s.device_pulses == int(s.pulses_per_sample.sum())


@settings(max_examples=30, deadline=None)
@given(model=st.sampled_from(DEVICE_MODELS), seed=st.integers(0, 2**31),
       zero_rows=st.lists(st.integers(0, 4), max_size=3),
       zero_cols=st.lists(st.integers(0, 5), max_size=3))
def test_zero_inputs_never_move_a_weight(model, seed, zero_rows, zero_cols):
    arr = DeviceArray(device(model, dw_min_std_add=0.2), (5, 6), np.random.default_rng(seed))
    before = arr.w.copy()
    x, d = batch(seed, 3, 5, 6)
    x[:, zero_cols] = 0.0
    d[:, zero_rows] = 0.0
    d[1] = 0.0                       # one sample without error
    pulsed_update(arr, x, d, 0.5, UpdateConfig(), np.random.default_rng(seed))
    assert np.array_equal(arr.w[zero_rows], before[zero_rows])
    assert np.array_equal(arr.w[:, zero_cols], before[:, zero_cols])
    s = pulsed_update(arr, np.zeros((2, 6)), d[:2], 0.5, UpdateConfig(),
                      np.random.default_rng(seed))
    assert s.device_pulses == 0 and np.all(s.bl_used == 0)


# ---- bad input ---------------------------------------------------------------------------
def test_bad_inputs_raise_value_errors():
    arr = DeviceArray(DeviceConfig(), (3, 4), np.random.default_rng(0))
    x, d, g, u = np.ones((2, 4)), np.ones((2, 3)), np.random.default_rng(0), UpdateConfig()
    cases = [
        (np.ones((2, 5)), d, 0.1, u, "x must"), (x, np.ones((2, 4)), 0.1, u, "d must"),
        (x, np.ones((3, 3)), 0.1, u, "same batch"), (np.ones(4), d, 0.1, u, "x must"),
        (np.full((2, 4), np.nan), d, 0.1, u, "NaN"), (x, np.full((2, 3), np.inf), 0.1, u, "NaN"),
        (x, d, -0.1, u, "learning rate"), (x, d, float("nan"), u, "learning rate"),
        (x, d, 0.1, UpdateConfig(bl_max=0), "bl_max"), (x, d, 0.1, UpdateConfig(bl_max=65),
                                                         "bl_max"),
    ]
    for xx, dd, lr, cfg, msg in cases:
        with pytest.raises(ValueError, match=msg):
            pulsed_update(arr, xx, dd, lr, cfg, g)
    with pytest.raises(ValueError, match="backend"):
        pulsed_update(arr, x, d, 0.1, u, g, backend="fortran")
    with pytest.raises(ValueError, match="Generator"):
        pulsed_update(arr, x, d, 0.1, u, 42)
    with pytest.raises(ValueError, match="integer"):
        apply_pulses(arr, np.ones((3, 4)), g)
    with pytest.raises(ValueError, match="shape"):
        apply_pulses(arr, np.ones((4, 3), int), g)
    with pytest.raises(ValueError, match="finite"):
        serial_write(arr, np.full((3, 4), np.nan), g)


def test_missing_kernel_is_backend_error(monkeypatch):
    suffix = "32" if PRECISION[0] == "float32" else ""
    monkeypatch.setitem(sys.modules, "hwsim._ext.pulsed_update" + suffix, None)
    arr = DeviceArray(DeviceConfig(), (2, 2), np.random.default_rng(0), PRECISION[0])
    with pytest.raises(BackendError, match="pip install"):
        pulsed_update(arr, np.ones((1, 2)), np.ones((1, 2)), 0.1, UpdateConfig(),
                      np.random.default_rng(0))
    # the oracle still works without the compiled module
    pulsed_update(arr, np.ones((1, 2)), np.ones((1, 2)), 0.1, UpdateConfig(),
                  np.random.default_rng(0), backend="numpy")
    assert math.isfinite(arr.w.sum())


# ---- AVX-512 path of the LINEAR family (code 1) ------------------------------------------
@pytest.mark.parametrize("model", ["soft_bounds", "linear_step"])
@pytest.mark.parametrize("shape", [(9, 21), (24, 70)])
def test_simd_and_scalar_slot_loops_match_oracle_bitwise(model, shape):
    """Training-shaped call (c2c 0.3, pulse counting, mixed signs, column tails not a
    multiple of 8): the vector loop, the scalar loop and the oracle agree bit for bit."""
    cfg = device(model, dw_min_std=0.3, dw_min_std_add=0.05, count_pulses=True)
    m, n = shape
    x, d = batch(11, 7, m, n)
    x[:, ::3] = np.abs(x[:, ::3])
    x[2] = 0.0                                  # a sample without input
    ucfg = UpdateConfig(lumped_noise_threshold=0.0)
    arrays = twins(cfg, shape) + twins(cfg, shape)[:1]
    had = kern().simd()
    try:
        for arr, backend, vector in zip(arrays, ("cython", "cython", "numpy"),
                                        (True, False, False)):
            kern().simd(vector)
            for rep in range(2):                # chained calls: weights near the bounds
                pulsed_update(arr, x, d, 0.4, ucfg, np.random.default_rng(rep), backend)
    finally:
        kern().simd(had)
    same(arrays[0], arrays[2])
    same(arrays[1], arrays[2])
    assert arrays[0].pulse_count.sum() > 100
    assert not np.array_equal(arrays[0].w, twins(cfg, shape)[0].w)


def test_simd_switch_reports_cpu_support():
    had = kern().simd()
    assert kern().simd(False) is False
    assert kern().simd(True) == had or not had
    kern().simd(had)


# ---- column-restricted count writes (Tiki-Taka transfers) --------------------------------
@pytest.mark.parametrize("model,kw", [
    ("soft_bounds", dict(dw_min_std=0.3)),
    ("linear_step", dict(dw_min_std=0.2, write_noise_std=0.7)),
    ("constant_step", dict(dw_min_std=0.2, write_noise_std=0.5)),      # lumped steps
    ("exp_step", dict(dw_min_std=0.0))])
@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_column_write_equals_the_full_matrix_write(model, kw, backend):
    """counts (M, k) on columns cols == the (M, N) matrix with those columns: weights,
    pulse counters, write noise, returned count and Generator state, bit for bit."""
    a, b = twins(device(model, count_pulses=True, **kw), shape=(11, 29))
    g = np.random.default_rng(2)
    for cols in ([7], [28, 3, 15, 0, 9], np.array([-1, 4, 5], np.int32)):
        counts = g.integers(-6, 7, (11, len(cols)))
        counts[g.random(counts.shape) < 0.4] = 0
        full = np.zeros(a.shape, np.int64)
        full[:, cols] = counts
        r1, r2 = np.random.default_rng(len(cols)), np.random.default_rng(len(cols))
        t1 = apply_pulses(a, counts, r1, backend, cols=cols)
        t2 = apply_pulses(b, full, r2, backend)
        assert t1 == t2 == int(np.abs(counts).sum()) > 0
        same(a, b)
        assert r1.random() == r2.random()
    assert a.pulse_count.sum() > 0 and np.count_nonzero(a.pulse_count.sum(axis=0)) <= 8
    if a.cfg.write_noise_std > 0:
        assert np.count_nonzero(a.write_noise) > 0


def test_column_write_kernel_matches_oracle_and_rejects_bad_columns():
    a, b = twins(device("pow_step", count_pulses=True, write_noise_std=0.3), shape=(6, 10))
    counts = np.random.default_rng(0).integers(-9, 10, (6, 3))
    assert apply_pulses(a, counts, np.random.default_rng(4), cols=[9, 2, 5]) == \
        apply_pulses(b, counts, np.random.default_rng(4), "numpy", cols=[9, 2, 5])
    same(a, b)
    g = np.random.default_rng(0)
    for cols, cnt, msg in (([1, 1], np.ones((6, 2), int), "distinct"),
                           ([10], np.ones((6, 1), int), "within"),
                           ([-11], np.ones((6, 1), int), "within"),
                           ([[1, 2]], np.ones((6, 2), int), "1-D integer"),
                           ([0.5], np.ones((6, 1), int), "1-D integer"),
                           ([1, 2], np.ones((6, 3), int), "shape"),
                           ([1, 2], np.ones((6, 2)), "integer")):
        with pytest.raises(ValueError, match=msg):
            apply_pulses(a, cnt, g, cols=cols)
    same(a, b)                                   # nothing written by a rejected call


@pytest.mark.parametrize("model", ["soft_bounds", "linear_step"])
@pytest.mark.parametrize("cols", [None, [3, 17, 0, 9, 12, 5, 20, 1, 14, 7, 11]])
def test_simd_and_scalar_count_writes_match_oracle_bitwise(model, cols):
    """Explicit counts (transfers, mixed-precision writes): the vector loop (8 devices of a
    row at a time, each through its own pulses), the scalar loop and the oracle agree bit
    for bit — mixed signs, zeros, runs up to the bounds, column lists longer than 8."""
    cfg = device(model, dw_min_std=0.3, dw_min_std_add=0.05, count_pulses=True)
    shape = (9, 21)
    g = np.random.default_rng(4)
    k = shape[1] if cols is None else len(cols)
    counts = g.integers(-40, 41, (shape[0], k)) * (g.random((shape[0], k)) < 0.6)
    arrays = twins(cfg, shape) + twins(cfg, shape)[:1]
    had = kern().simd()
    totals = []
    try:
        for arr, backend, vector in zip(arrays, ("cython", "cython", "numpy"),
                                        (True, False, False)):
            kern().simd(vector)
            totals.append(apply_pulses(arr, counts, np.random.default_rng(1), backend,
                                       cols=None if cols is None else np.array(cols),
                                       lumped_noise_threshold=0.0))
    finally:
        kern().simd(had)
    assert totals[0] == totals[1] == totals[2] == np.abs(counts).sum()
    same(arrays[0], arrays[2])
    same(arrays[1], arrays[2])
    assert not np.array_equal(arrays[0].w, twins(cfg, shape)[0].w)


@pytest.mark.parametrize("model", ["soft_bounds", "exp_step"])
def test_train_kernel_on_a_given_plan_equals_the_planned_update(model):
    """stochastic_update (trains planned by the caller: the benchmark's kernel-only entry)
    and planned_update (plan and pulses in one call: the training path) apply the same
    pulses and report the same statistics."""
    from hwsim.physics import update as U
    cfg = device(model, dw_min_std=0.3, count_pulses=True)
    ucfg = UpdateConfig(lumped_noise_threshold=0.0)
    a, b = twins(cfg, (19, 23))
    x, d = batch(4, 6, 19, 23)
    keys = [11, 22, 33]
    args_a, args_b = U._device_args(a, False, None), U._device_args(b, False, None)
    plan = plan_stochastic_trains(x, d, 0.3, a.granularity, ucfg)
    st = np.zeros((5, 6), np.int64)
    kernel = U._kernel(a)
    assert kernel.__name__.endswith("32") == (PRECISION[0] == "float32")
    tot = kernel.stochastic_update(*args_a, plan.thr_rows, plan.thr_cols, plan.sign_rows,
                                   plan.sign_cols, plan.bl, *keys, 0, st)
    clipped, *tot_b, st_b, bl_b = kernel.planned_update(
        *args_b, x, d, 0.3, b.granularity, ucfg.bl_max, ucfg.fixed_bl,
        ucfg.update_management, *keys, 0)
    same(a, b)
    assert tuple(tot) == tuple(tot_b) and tot[0] > 50
    assert np.array_equal(st, st_b) and np.array_equal(plan.bl, bl_b)
    assert clipped == int(plan.clipped.sum())
    bad = x.copy()
    bad[1, 2] = np.nan
    w0 = b.w.copy()
    assert kernel.planned_update(*args_b, bad, d, 0.3, b.granularity, 31, False, True,
                                 *keys, 0)[0] == -1
    assert np.array_equal(b.w, w0)             # nothing applied on a rejected plan
    with pytest.raises(ValueError, match="planned_update"):
        kernel.planned_update(*args_b, np.ascontiguousarray(x[:, :5]), d, 0.3, b.granularity, 31, False, True,
                              *keys, 0)
