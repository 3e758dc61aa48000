"""The transfer-buffer kernel of Tiki-Taka v2 / c-TTv2 / AGAD (transfer_accumulate in
cython_ext/digital_accumulator.pyx).

Oracle: ``hwsim.training.digital_accumulator.transfer_accumulate_numpy`` (the NumPy
code tt_family ran before the kernel) — the two must agree BIT FOR BIT on H (compared
on the raw float64 bits) and on the pulse counts.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.training import digital_accumulator as da


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint64)


def _both(H, cols, v, scale, chopped, momentum, max_pulses, enabled, seed=0):
    g = np.random.default_rng(seed)
    m, n = H.shape
    c_in = np.where(g.random(n) < 0.5, -1.0, 1.0) if chopped else None
    c_out = np.where(g.random(m) < 0.5, -1.0, 1.0) if chopped else None
    out = []
    for backend in ("numpy", "cython"):
        h = H.copy()
        counts, writes = da.transfer_accumulate(h, cols, v, scale, c_in, c_out, momentum,
                                                max_pulses, enabled=enabled, backend=backend)
        out.append((h, counts, writes))
    return out


@pytest.mark.parametrize("chopped", [False, True])
@pytest.mark.parametrize("enabled", [True, False])
def test_kernel_equals_numpy_twin(chopped, enabled):
    g = np.random.default_rng(1)
    H = g.normal(0, 1.5, (37, 50))
    H[0, :] = [0.5, -0.5, 1.0, -1.0, 0.999] * 10        # thresholds exactly at ±1
    cols = np.array([3, 4, 5, 49, 0, 17])
    v = g.normal(0, 2.0, (cols.size, 37))
    (h0, n0, w0), (h1, n1, w1) = _both(H, cols, v, 0.7, chopped, 0.3, 4, enabled)
    assert np.array_equal(_bits(h0), _bits(h1))
    assert np.array_equal(n0, n1) and w0 == w1
    assert w0 == np.count_nonzero(n0)
    if enabled:
        assert w0 > 10 and np.abs(n0).max() == 4             # the clip is reached
    else:                                 # AGAD warm-up: H accumulates, nothing fires
        assert w0 == 0 and not n0.any() and not np.array_equal(h0[:, cols], H[:, cols])
    untouched = np.setdiff1d(np.arange(50), cols)
    assert np.array_equal(h1[:, untouched], H[:, untouched])


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 9), n=st.integers(1, 12), k=st.integers(1, 12),
       scale=st.floats(-50, 50, allow_nan=False), momentum=st.floats(-1, 1),
       max_pulses=st.integers(1, 20), chopped=st.booleans(), seed=st.integers(0, 2**16))
def test_kernel_equals_twin_property(m, n, k, scale, momentum, max_pulses, chopped, seed):
    g = np.random.default_rng(seed)
    k = min(k, n)
    H = g.normal(0, 3, (m, n))
    H[g.random((m, n)) < 0.1] = -0.0
    cols = g.permutation(n)[:k]
    v = g.normal(0, 1, (k, m))
    (h0, n0, w0), (h1, n1, w1) = _both(H, cols, v, scale, chopped, momentum, max_pulses,
                                       True, seed)
    assert np.array_equal(_bits(h0), _bits(h1))
    assert np.array_equal(n0, n1) and w0 == w1


@pytest.mark.parametrize("bad", ["dup", "range", "shape", "chop"])
def test_bad_input_is_rejected(bad):
    H = np.zeros((4, 6))
    cols, v, c_in, c_out = np.array([1, 2]), np.zeros((2, 4)), None, None
    if bad == "dup":
        cols = np.array([2, 2])
    elif bad == "range":
        cols = np.array([1, 6])
    elif bad == "shape":
        v = np.zeros((4, 2))
    else:
        c_in = np.ones(6)
    with pytest.raises(ValueError):
        da.transfer_accumulate(H, cols, v, 1.0, c_in, c_out, 0.0, 3)
