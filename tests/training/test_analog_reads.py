"""Reads of an AnalogArray: cached visible weights, line sums and column reads give
exactly what a fresh read of the devices gives (hwsim/training/algorithms/analog.py)."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.accelerator import AcceleratorConfig
from hwsim.devices import DeviceConfig
from hwsim.config.params import build_section
from hwsim.physics.periphery import abs_column_sums, abs_line_sums, mvm
from hwsim.training.algorithms.analog import AnalogArray
from hwsim.training.runner import Context

SHAPE = (12, 20)


def _ctx(device=None, forward=None, seed=0):
    acc = build_section(AcceleratorConfig, {"device": {"model": "soft_bounds"},
                                            "tile": {"forward": forward or {}}}, "")
    dev = build_section(DeviceConfig, device or {"model": "soft_bounds"}, "device")
    return Context(accelerator=acc, device=dev, seed=seed, backend="cython")


def _trained(ctx, role="A", seed=1):
    arr = AnalogArray(ctx, "fc", role, SHAPE,
                      init_w=np.random.default_rng(seed).uniform(-0.3, 0.3, SHAPE))
    rng = np.random.default_rng(seed + 1)
    arr.pulsed_update(rng.uniform(0, 1, (4, SHAPE[1])), rng.normal(0, 0.1, (4, SHAPE[0])), 0.5)
    return arr


def test_weights_cached_until_a_write_and_never_aliased():
    arr = _trained(_ctx())
    w0 = arr.weights()
    assert arr.weights() is w0                        # built once per device state
    assert not w0.flags.writeable
    assert np.array_equal(w0, arr.array.visible_weights())
    snapshot = w0.copy()
    arr.apply_pulses(np.ones(SHAPE, np.int64))        # a write drops the cache...
    assert np.array_equal(w0, snapshot)               # ...and never changes a handed-out copy
    w1 = arr.weights()
    assert w1 is not w0 and np.all(w1 > w0)
    assert np.array_equal(w1, arr.array.visible_weights())


def test_reassigned_reference_is_seen_and_offsets_are_read():
    arr = _trained(_ctx())
    w0 = arr.weights().copy()
    arr.array.reference = arr.array.reference + 0.01  # a study's static read offset
    assert np.allclose(arr.weights(), w0 - 0.01)
    x = np.random.default_rng(3).uniform(0, 1, (3, SHAPE[1]))
    # the forward read multiplies the visible weights, not the raw device weights
    y = arr.forward(x)
    ref, _ = mvm(arr.array.visible_weights(), x, arr.fwd_cfg, np.random.default_rng(0))
    assert np.abs(y - ref).max() < 0.5                # same matrix up to read noise
    arr.array.reference = np.zeros(SHAPE)
    assert np.array_equal(arr.weights(), arr.array.w)


def test_forward_and_backward_equal_a_fresh_uncached_read():
    ctx_a, ctx_b = _ctx(seed=5), _ctx(seed=5)
    a, b = _trained(ctx_a), _trained(ctx_b)
    x = np.random.default_rng(7).uniform(0, 1, (4, SHAPE[1]))
    d = np.random.default_rng(8).normal(0, 0.1, (4, SHAPE[0]))
    ya, ga = a.forward(x), a.backward(d)
    w = b.array.visible_weights()                     # fresh matrix, line sums recomputed
    yb, _ = mvm(w, x, b.fwd_cfg, b.rng("forward"), backend="cython")
    gb, _ = mvm(w, d, b.bwd_cfg, b.rng("backward"), transposed=True, backend="cython")
    assert np.array_equal(ya, yb) and np.array_equal(ga, gb)


def test_given_line_sums_equal_computed_ones():
    rng = np.random.default_rng(0)
    w, x = rng.uniform(-0.5, 0.5, (6, 9)), rng.uniform(0, 1, (3, 9))
    arr = _trained(_ctx())
    for transposed, inp in ((False, x), (True, rng.normal(0, 1, (3, 6)))):
        ls = abs_line_sums(w, transposed)
        assert np.array_equal(ls, np.abs(w).sum(axis=1 if transposed else 0))
        y1, s1 = mvm(w, inp, arr.fwd_cfg, np.random.default_rng(1), transposed=transposed)
        y2, s2 = mvm(w, inp, arr.fwd_cfg, np.random.default_rng(1), transposed=transposed,
                     line_sums=ls)
        assert np.array_equal(y1, y2) and s1 == s2
    with pytest.raises(ValueError, match="line_sums"):
        mvm(w, x, arr.fwd_cfg, rng, line_sums=np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        abs_line_sums(np.full((2, 2), np.nan))


@pytest.mark.parametrize("forward", [{}, {"inp_noise": 0.01}, {"is_perfect": True}])
def test_column_reads_equal_one_hot_reads_of_the_whole_array(forward):
    """read_columns reads only the selected columns when the other inputs are exact zeros
    (no input noise); the result equals the one-hot MVM of the whole (A − R)."""
    ctx_a, ctx_b = _ctx(forward=forward, seed=2), _ctx(forward=forward, seed=2)
    a, r = _trained(ctx_a), _trained(ctx_a, role="R", seed=4)
    b, rb = _trained(ctx_b), _trained(ctx_b, role="R", seed=4)
    cols = np.array([3, 0, 19, 7])
    v = a.read_columns(cols, minus=r)
    x = np.zeros((cols.size, SHAPE[1]))
    x[np.arange(cols.size), cols] = 1.0
    w = b.array.visible_weights() - rb.array.visible_weights()
    ref, _ = mvm(w, x, b.fwd_cfg, b.rng("read"), backend="cython")
    assert np.array_equal(v, ref)
    assert a._columns_alone() == (forward.get("inp_noise", 0) == 0)


def test_apply_pulses_on_columns_equals_full_matrix():
    ctx_a, ctx_b = _ctx(seed=3), _ctx(seed=3)
    a, b = _trained(ctx_a), _trained(ctx_b)
    cols = np.array([2, 11, 5])
    counts = np.random.default_rng(9).integers(-3, 4, (SHAPE[0], cols.size))
    full = np.zeros(SHAPE, np.int64)
    full[:, cols] = counts
    na = a.apply_pulses(counts, cols=cols)
    nb = b.apply_pulses(full)
    assert na == nb == np.abs(counts).sum()
    assert np.array_equal(a.array.w, b.array.w)


def test_in_place_reference_change_is_seen_after_note_write():
    arr = _trained(_ctx())
    x = np.random.default_rng(3).uniform(0, 1, (3, SHAPE[1]))
    # no offsets: the live weights are read (float32 state: widened once to float64)
    live = arr._read_matrix()
    assert live.dtype == np.float64 and np.array_equal(live, arr.array.w)
    assert (live is arr.array.w) == (arr.array.w.dtype == np.float64)
    arr.forward(x)
    arr.array.reference += 0.02                       # in place: a static-offset study
    arr.note_write(reference=True)
    w = arr._read_matrix()
    assert w is not live and np.array_equal(w, arr.array.w.astype(np.float64) - 0.02)


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_column_write_keeps_forward_line_sums_exact(backend):
    """After a write to a few columns the cached forward line sums are summed again at
    those columns only: bitwise the line sums of the written devices, and the next reads
    (and their energy statistic) equal those of a fresh array state."""
    ctx = _ctx(seed=6)
    ctx = Context(accelerator=ctx.accelerator, device=ctx.device, seed=6, backend=backend)
    a = _trained(ctx)
    x = np.random.default_rng(2).uniform(0, 1, (3, SHAPE[1]))
    a.forward(x)                                     # line sums cached
    before = a._line_sums(False).copy()
    cols = np.array([4, -1, 9])                      # a negative index: column 19
    a.apply_pulses(np.full((SHAPE[0], 3), 3, np.int64), cols=cols)
    assert False in a._cache()                       # kept through the write, not rebuilt
    kept = a._line_sums(False)
    fresh = abs_line_sums(a.array.w, False, backend)
    assert np.array_equal(kept.view(np.int64), fresh.view(np.int64))
    changed = np.flatnonzero(kept != before)
    assert set(changed) == {4, 9, 19}
    assert a._cache().get(True) is None              # row sums were dropped, not kept
    with pytest.raises(ValueError, match="column indices"):
        abs_column_sums(a.array.w, [SHAPE[1]], backend)
    w = a.array.w.copy()
    w[0, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        abs_column_sums(w, [2], backend)


def test_a_differential_read_issues_one_op_naming_the_reference():
    """v = (A − R) e_k is one read of the pair in the cost path: one read_column op on A
    with minus = R's role (it was two sequential ops, A's and R's)."""
    class Recorder:
        def __init__(self):
            self.ops = []

        def read_column(self, layer, n, role, phase, **meta):
            self.ops.append((layer, n, role, phase, meta))

        def __getattr__(self, name):
            return lambda *a, **k: None

    ctx = _ctx(seed=5)
    ctx.hw = Recorder()
    a, r = _trained(ctx), _trained(ctx, role="R", seed=6)
    a.read_columns(np.array([4, 5]), minus=r)
    ((layer, n, role, phase, meta),) = ctx.hw.ops
    assert (layer, n, role, phase, meta["minus"], meta["col"]) == ("fc", 2, "A", "transfer",
                                                                   "R", 4)
