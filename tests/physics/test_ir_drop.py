"""IR drop: first-order model against the exact nodal solve; the W_eff cache."""
import numpy as np
import pytest

from hwsim.config.periphery import MVMConfig
from hwsim.physics.ir_drop import (IRDropCache, effective_matrix, first_order_conductance,
                                   nodal_solve)


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_zero_resistance_is_ideal():
    w = np.random.default_rng(0).uniform(-1, 1, (4, 5))
    x = np.random.default_rng(1).uniform(size=(3, 5))
    np.testing.assert_array_equal(effective_matrix(w, 0.0), w)
    np.testing.assert_allclose(nodal_solve(w, 0.0, x), x @ w.T)


def test_single_device_analytic():
    # driver –r– device (1/g) –r– sense amp: I = V / (2r + 1/g); first order g(1 − 2rg)
    g, r = 0.8, 1e-3
    exact = nodal_solve(np.array([[g]]), r, np.array([1.0]))[0, 0]
    assert exact == pytest.approx(1.0 / (2 * r + 1 / g), rel=1e-12)
    fo = first_order_conductance(np.array([[g]]), r)[0, 0]
    assert fo == pytest.approx(g * (1 - 2 * r * g), rel=1e-14)
    assert abs(fo - exact) < 2 * (2 * r * g) ** 2 * g          # second order


def test_far_corner_is_attenuated_most():
    g = np.ones((6, 7))
    eff = first_order_conductance(g, 1e-3)
    assert np.all(eff < g)
    assert np.unravel_index(np.argmin(eff), eff.shape) == (5, 0)  # far from driver and sense
    assert np.unravel_index(np.argmax(eff), eff.shape) == (0, 6)


@pytest.mark.parametrize("transposed", [False, True])
def test_first_order_tracks_exact_solve_quadratically(transposed):
    rng = np.random.default_rng(2)
    w = rng.uniform(-1, 1, (16, 12))
    k = 16 if transposed else 12
    xs = {"uniform": np.ones((1, k)), "random": rng.uniform(0, 1, (6, k)),
          "signed": rng.uniform(-1, 1, (6, k))}
    for x in xs.values():
        err, ideal_err = [], []
        for r in (1e-3, 1e-4):
            exact = nodal_solve(w, r, x, transposed=transposed)
            eff = effective_matrix(w, r, transposed=transposed)
            approx = x @ eff if transposed else x @ eff.T
            ideal = x @ w if transposed else x @ w.T
            err.append(rel(approx, exact))
            ideal_err.append(rel(ideal, exact))
        # measured: err ≈ 4e-3 → 4e-5 (×100 per decade: O(r²)); ignoring IR drop ≈ 6e-2 → 6e-3
        assert err[0] / err[1] > 50
        assert ideal_err[0] / ideal_err[1] == pytest.approx(10, rel=0.2)   # O(r)
        assert err[0] < 0.1 * ideal_err[0] and err[1] < 0.01 * ideal_err[1]


def test_exact_solve_conserves_current_and_is_linear():
    rng = np.random.default_rng(3)
    g = rng.uniform(0, 1, (5, 4))
    x1, x2 = rng.uniform(size=4), rng.uniform(size=4)
    y = nodal_solve(g, 0.01, np.vstack([x1, x2, x1 + 2 * x2]))
    np.testing.assert_allclose(y[2], y[0] + 2 * y[1], rtol=1e-10)
    assert np.all(y[:2] < np.vstack([x1, x2]) @ g.T)              # drop only reduces current


def test_bad_arguments():
    w = np.ones((3, 3))
    with pytest.raises(ValueError, match="small arrays"):
        nodal_solve(np.ones((40, 40)), 1e-3, np.ones(40))
    with pytest.raises(ValueError, match="columns"):
        nodal_solve(w, 1e-3, np.ones(4))
    with pytest.raises(ValueError, match="ratio"):
        effective_matrix(w, -1.0)
    with pytest.raises(ValueError, match="NaN"):
        effective_matrix(np.full((2, 2), np.nan), 1e-3)
    with pytest.raises(ValueError, match="≥ 0"):
        first_order_conductance(-w, 1e-3)
    with pytest.raises(ValueError, match="every"):
        IRDropCache(1e-3, every=0)


def test_cache_recomputes_on_tolerance_and_every():
    rng = np.random.default_rng(4)
    w = rng.uniform(-1, 1, (8, 8))
    cache = IRDropCache.from_config(MVMConfig(ir_drop=1e-3, ir_drop_tolerance=0.01,
                                              ir_drop_every=3))
    e0 = cache.get(w)
    np.testing.assert_array_equal(e0, effective_matrix(w, 1e-3))
    assert cache.recomputes == 1
    w2 = w.copy()
    w2[0, 0] += 0.009                                   # below tolerance: stale matrix kept
    assert cache.get(w2) is e0 and cache.recomputes == 1
    w2[0, 0] += 0.002                                   # 0.011 from the reference
    e1 = cache.get(w2)
    assert cache.recomputes == 2
    np.testing.assert_array_equal(e1, effective_matrix(w2, 1e-3))
    cache.note_update(2)
    assert cache.get(w2) is e1
    cache.note_update()                                 # 3 updates: recompute
    assert cache.get(w2) is not e1 and cache.recomputes == 3
    et = cache.get(w2, transposed=True)                 # lazily, per direction
    np.testing.assert_array_equal(et, effective_matrix(w2, 1e-3, transposed=True))
    assert cache.recomputes == 4 and cache.get(w2, transposed=True) is et
