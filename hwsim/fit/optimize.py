"""Small NumPy least-squares tools, batched over devices (no SciPy).

Every routine fits *many independent problems at once*: the rows of the data carry a
device index ``dev`` (0..D−1) and per-device sums are ``np.bincount`` reductions, so a
fit costs a few passes over the data whatever the number of devices.

* :func:`ols` — per-device straight line y = a + b·x (closed form).
* :func:`scale_fit` — per-device y = c·f (closed form).
* :func:`golden_min` — per-device golden-section search of a scalar parameter.
* :func:`levenberg_marquardt` — per-device damped Gauss–Newton (Levenberg 1944,
  Marquardt 1963) with forward-difference Jacobians.
"""
from __future__ import annotations

import numpy as np

_GOLD = (np.sqrt(5.0) - 1.0) / 2.0


def dsum(dev, values, n_dev) -> np.ndarray:
    """Σ values per device."""
    return np.bincount(dev, weights=values, minlength=n_dev)


def ols(dev, x, y, n_dev) -> tuple[np.ndarray, np.ndarray]:
    """Intercept a and slope b of y ≈ a + b·x per device (b = 0 where x does not vary)."""
    n = np.maximum(dsum(dev, np.ones_like(x), n_dev), 1.0)
    mx, my = dsum(dev, x, n_dev) / n, dsum(dev, y, n_dev) / n
    dx = x - mx[dev]
    sxx = dsum(dev, dx * dx, n_dev)
    sxy = dsum(dev, dx * (y - my[dev]), n_dev)
    b = np.divide(sxy, sxx, out=np.zeros(n_dev), where=sxx > 0)
    return my - b * mx, b


def scale_fit(dev, f, y, n_dev) -> np.ndarray:
    """c minimising Σ (y − c·f)² per device."""
    ff = dsum(dev, f * f, n_dev)
    return np.divide(dsum(dev, f * y, n_dev), ff, out=np.zeros(n_dev), where=ff > 0)


def golden_min(cost, lo, hi, iters: int = 40) -> np.ndarray:
    """Per-device minimiser of ``cost(x) -> (D,)`` over [lo, hi] (arrays of shape (D,))."""
    a, b = np.array(lo, float), np.array(hi, float)
    c, d = b - _GOLD * (b - a), a + _GOLD * (b - a)
    fc, fd = cost(c), cost(d)
    for _ in range(iters):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        # both interior points are re-evaluated: simpler than reusing one per device
        c, d = b - _GOLD * (b - a), a + _GOLD * (b - a)
        fc, fd = cost(c), cost(d)
    return 0.5 * (a + b)


def levenberg_marquardt(residual, theta0, dev, n_dev, iters: int = 60,
                        step: float = 1e-6) -> np.ndarray:
    """Minimise Σ_rows residual(θ)² separately for every device.

    ``residual(theta) -> (S,)`` with ``theta`` of shape (D, P); row s belongs to device
    ``dev[s]`` and may depend only on ``theta[dev[s]]``.  Returns θ of shape (D, P).
    """
    theta = np.array(theta0, dtype=np.float64)
    n_par = theta.shape[1]
    lam = np.full(n_dev, 1e-3)
    r = residual(theta)
    cost = dsum(dev, r * r, n_dev)
    for _ in range(iters):
        jac = np.empty((r.size, n_par))
        for p in range(n_par):
            h = step * np.maximum(np.abs(theta[:, p]), 1e-3)
            t = theta.copy()
            t[:, p] += h
            jac[:, p] = (residual(t) - r) / h[dev]
        jtj = np.empty((n_dev, n_par, n_par))
        for i in range(n_par):
            for k in range(i, n_par):
                jtj[:, i, k] = jtj[:, k, i] = dsum(dev, jac[:, i] * jac[:, k], n_dev)
        jtr = np.stack([dsum(dev, jac[:, i] * r, n_dev) for i in range(n_par)], axis=1)
        diag = np.einsum("dii->di", jtj)
        a = jtj + (lam[:, None] * np.maximum(diag, 1e-30))[:, :, None] * np.eye(n_par)
        try:
            delta = -np.linalg.solve(a, jtr[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:          # a singular device: the pseudo-inverse step
            delta = -(np.linalg.pinv(a) @ jtr[:, :, None])[:, :, 0]
        trial = theta + delta
        r_t = residual(trial)
        cost_t = dsum(dev, r_t * r_t, n_dev)
        better = np.isfinite(cost_t) & (cost_t < cost)
        theta = np.where(better[:, None], trial, theta)
        r = np.where(better[dev], r_t, r)
        gain = np.where(better, (cost - cost_t) / np.maximum(cost, 1e-300), 0.0)
        cost = np.where(better, cost_t, cost)
        lam = np.where(better, np.maximum(lam / 3.0, 1e-9), np.minimum(lam * 4.0, 1e9))
        if np.all((gain < 1e-10) & (better | (lam >= 1e9))):
            break
    return theta


def shared_shape_fit(qfun, t0, dev, y, n_dev):
    """Shape parameters t shared by all devices, gains per device profiled out:
    minimise Σ (y − c_i·q(t))² over t (Levenberg–Marquardt), c_i in closed form.
    ``qfun(t) -> (S,)`` with t a 1-D array.  Returns (t, c)."""
    def resid(theta):
        q = qfun(theta[0])
        return y - scale_fit(dev, q, y, n_dev)[dev] * q

    t = levenberg_marquardt(resid, np.atleast_2d(np.asarray(t0, float)),
                            np.zeros(y.size, np.intp), 1)[0]
    return t, scale_fit(dev, qfun(t), y, n_dev)
