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


def ols(dev, x, y, n_dev, se: bool = False):
    """Intercept a and slope b of y ≈ a + b·x per device (b = 0 where x does not vary);
    with ``se`` also the standard error of b, s/√Sxx with s² = RSS/(n − 2)."""
    n = np.maximum(dsum(dev, np.ones_like(x), n_dev), 1.0)
    mx, my = dsum(dev, x, n_dev) / n, dsum(dev, y, n_dev) / n
    dx = x - mx[dev]
    sxx = dsum(dev, dx * dx, n_dev)
    sxy = dsum(dev, dx * (y - my[dev]), n_dev)
    b = np.divide(sxy, sxx, out=np.zeros(n_dev), where=sxx > 0)
    a = my - b * mx
    if not se:
        return a, b
    r = y - a[dev] - b[dev] * x
    s2 = dsum(dev, r * r, n_dev) / np.maximum(n - 2.0, 1.0)
    return a, b, np.sqrt(np.divide(s2, sxx, out=np.full(n_dev, np.inf), where=sxx > 0))


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


def _summer(dev, n_dev):
    """A function: per-device sums of a (S, …) array over its first axis.  Rows grouped
    by device (as the fit's steps are) use one np.add.reduceat pass, else bincount."""
    if dev.size and np.all(dev[1:] >= dev[:-1]):
        starts = np.searchsorted(dev, np.arange(n_dev))
        empty = np.bincount(dev, minlength=n_dev) == 0
        safe = np.minimum(starts, dev.size - 1)

        def total(v):
            out = np.add.reduceat(v, safe, axis=0)
            out[empty] = 0.0
            return out
        return total

    def total_any(v):
        flat = v.reshape(v.shape[0], -1)
        return np.stack([dsum(dev, flat[:, k], n_dev) for k in range(flat.shape[1])],
                        axis=1).reshape((n_dev,) + v.shape[1:])
    return total_any


def levenberg_marquardt(residual, theta0, dev, n_dev, iters: int = 60,
                        step: float = 1e-6, tol: float = 1e-8) -> np.ndarray:
    """Minimise Σ_rows residual(θ)² separately for every device.

    ``residual(theta) -> (S,)`` with ``theta`` of shape (D, P); row s belongs to device
    ``dev[s]`` and may depend only on ``theta[dev[s]]``.  Returns θ of shape (D, P).
    A device is done when an accepted step lowers its cost by less than ``tol``
    (relative) or five steps in a row are rejected; all are when the total cost has
    moved by less than ``tol`` three iterations running.
    """
    theta = np.array(theta0, dtype=np.float64)
    n_par = theta.shape[1]
    total = _summer(dev, n_dev)
    lam = np.full(n_dev, 1e-3)
    rejected = np.zeros(n_dev, np.int64)
    stalled = 0
    r = residual(theta)
    cost = total(r * r)
    for _ in range(iters):
        jac = np.empty((r.size, n_par))
        for p in range(n_par):
            h = step * np.maximum(np.abs(theta[:, p]), 1e-3)
            t = theta.copy()
            t[:, p] += h
            jac[:, p] = (residual(t) - r) / h[dev]
        jtj = total(jac[:, :, None] * jac[:, None, :])          # (D, P, P)
        jtr = total(jac * r[:, None])                           # (D, P)
        diag = np.einsum("dii->di", jtj)
        a = jtj + (lam[:, None] * np.maximum(diag, 1e-30))[:, :, None] * np.eye(n_par)
        try:
            delta = -np.linalg.solve(a, jtr[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:          # a singular device: the pseudo-inverse step
            delta = -(np.linalg.pinv(a) @ jtr[:, :, None])[:, :, 0]
        trial = theta + delta
        r_t = residual(trial)
        cost_t = total(r_t * r_t)
        better = np.isfinite(cost_t) & (cost_t < cost)
        gain = np.where(better, (cost - cost_t) / np.maximum(cost, 1e-300), 0.0)
        overall = float(np.sum(np.where(better, cost - cost_t, 0.0))) / \
            max(float(np.sum(cost)), 1e-300)
        stalled = stalled + 1 if overall < tol else 0
        theta = np.where(better[:, None], trial, theta)
        r = np.where(better[dev], r_t, r)
        cost = np.where(better, cost_t, cost)
        lam = np.where(better, np.maximum(lam / 3.0, 1e-9), np.minimum(lam * 4.0, 1e9))
        rejected = np.where(better, 0, rejected + 1)
        # done: every device's last accepted step gained < tol or it failed 5 times in a
        # row, or the total cost moved by < tol three iterations running
        if np.all((better & (gain < tol)) | (rejected >= 5)) or stalled >= 3:
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
