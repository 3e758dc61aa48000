"""exp_step and pow_step fits: a shape parameter found numerically (no SciPy).

**exp_step** (PHYSICS.md §1, with a = 1, b = 0 written out: only γ·a and A·e^{γb} are
identifiable): up steps y = Δ⁺(1 − A_up e^{γ_up z}), down steps y = Δ⁻(1 − A_dn e^{−γ_dn z}),
z = 2w/(b_max − b_min) with the observed extremes as (hard) bounds.  Per device and
direction y = c₀ − c₁e^{γx} (x = ±z) is linear in (c₀, c₁) for fixed γ, so γ is found by
a grid over ±[0.03, 30] and a golden-section refinement of the residual sum of squares
with (c₀, c₁) in closed form (variable projection, Golub & Pereyra 1973); Δ = c₀,
A = c₁/c₀.  hwsim's ExpStep shares A and γ between devices, so the YAML takes their
means as start values of a Levenberg–Marquardt fit of one shared (A, γ) per direction,
with the gains Δ±_i in closed form inside it.

**pow_step**: y = Δ±((b_max − w)/(b_max − b_min))^γ up, ((w − b_min)/(b_max − b_min))^γ
down, with the bounds where the steps vanish (at or beyond the observed extremes) and
one γ per device: five parameters per device by Levenberg–Marquardt, started from the
best point of a small grid of γ and bound margins (gains in closed form there).
"""
from __future__ import annotations

import numpy as np

from hwsim.fit.models import Fit, _spread, along, hard_bounds, register
from hwsim.fit.optimize import (dsum, golden_min, levenberg_marquardt, scale_fit,
                                 shared_shape_fit)
from hwsim.fit.options import DEFAULT, FitOptions
from hwsim.fit.pulse_data import Steps

_GRID = np.concatenate((-np.logspace(1.5, -1.5, 31), np.logspace(-1.5, 1.5, 31)))


def _varpro(dev, x, y, n_dev):
    """Per-device (c₀, c₁, γ) of y ≈ c₀ − c₁e^{γx}."""
    ones = np.ones_like(x)
    n, sy, syy = dsum(dev, ones, n_dev), dsum(dev, y, n_dev), dsum(dev, y * y, n_dev)

    def solve(gam):
        e = np.exp(np.clip(gam[dev] * x, -60.0, 60.0))
        se, see, sye = dsum(dev, e, n_dev), dsum(dev, e * e, n_dev), dsum(dev, y * e, n_dev)
        det = n * see - se * se
        ok = det > 1e-12 * np.maximum(n * see, 1e-300)
        safe = np.where(ok, det, 1.0)
        c0 = np.where(ok, (sy * see - se * sye) / safe, sy / np.maximum(n, 1))
        c1 = np.where(ok, (se * sy - n * sye) / safe, 0.0)
        rss = syy + n * c0 ** 2 + c1 ** 2 * see - 2 * c0 * sy + 2 * c1 * sye - 2 * c0 * c1 * se
        return c0, c1, np.where(ok, rss, np.inf)

    costs = np.stack([solve(np.full(n_dev, g))[2] for g in _GRID])      # (G, D)
    k = np.argmin(costs, axis=0)
    lo = _GRID[np.clip(k - 1, 0, len(_GRID) - 1)]
    hi = _GRID[np.clip(k + 1, 0, len(_GRID) - 1)]
    same_sign = np.sign(lo) == np.sign(hi)
    lo = np.where(same_sign, lo, _GRID[k])          # never bracket across γ = 0
    hi = np.where(same_sign, hi, _GRID[k] * 1.001)
    gam = golden_min(lambda g: solve(g)[2], np.minimum(lo, hi), np.maximum(lo, hi), iters=30)
    c0, c1, _ = solve(gam)
    return c0, c1, gam


def _exp_q(a_up, g_up, a_dn, g_dn, span):
    def q(w, dev, up):
        z = 2.0 * w / span[dev]
        e = np.where(up, a_up * np.exp(np.clip(g_up * z, -60, 60)),
                     a_dn * np.exp(np.clip(-g_dn * z, -60, 60)))
        return np.maximum(1.0 - e, 0.0)
    return q


@register("exp_step")
def fit_exp(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    bnd = hard_bounds(steps)
    bmax, bmin = bnd.bmax, bnd.bmin
    span = np.maximum(bmax - bmin, 1e-12)
    keep, y, n = ~steps.clipped, along(steps), steps.n_devices
    shape, gains = {}, []
    for up, tag, sign in ((True, "up", 1.0), (False, "down", -1.0)):
        m = keep & (steps.up == up)
        dev, ym = steps.dev[m], y[m]
        x = sign * 2.0 * steps.w[m] / span[dev]
        c0, c1, gam = _varpro(dev, x, ym, n)
        amp = np.divide(c1, c0, out=np.zeros(n), where=c0 != 0)

        def qfun(t, x=x):
            return np.maximum(1.0 - t[0] * np.exp(np.clip(t[1] * x, -60, 60)), 0.0)

        t, gain = shared_shape_fit(qfun, [np.mean(amp), np.mean(gam)], dev, ym, n)
        shape[f"exp_A_{tag}"], shape[f"exp_gamma_{tag}"] = float(t[0]), float(t[1])
        gains.append(gain)
    shape.update(exp_a=1.0, exp_b=0.0)
    q = _exp_q(shape["exp_A_up"], shape["exp_gamma_up"], shape["exp_A_down"],
               shape["exp_gamma_down"], span)
    return Fit("exp_step", gains[0], gains[1], bmax, bmin, q=q, params_per_device=4,
               params_global=4, shape=shape, notes=bnd.notes, bound_ok=bnd.ok)


def _pow_q(bmax, bmin, gam):
    span = bmax - bmin

    def q(w, dev, up):
        base = np.where(up, bmax[dev] - w, w - bmin[dev]) / span[dev]
        return np.maximum(base, 0.0) ** gam[dev]
    return q


def _pow_start(steps, dev, w, up, y, span):
    """Per-device start values: the best (γ, margin) of a small grid, gains in closed form."""
    n = steps.n_devices
    best = np.full(n, np.inf)
    theta = np.zeros((n, 5))
    for gam in (0.5, 1.0, 1.5, 2.0, 3.0):
        for margin in (0.01, 0.1, 0.3, 1.0):
            bmax, bmin = steps.w_hi + margin * span, steps.w_lo - margin * span
            q = _pow_q(bmax, bmin, np.full(n, gam))(w, dev, up)
            gains = [scale_fit(dev[up == u], q[up == u], y[up == u], n) for u in (True, False)]
            r = y - np.where(up, gains[0][dev], gains[1][dev]) * q
            cost = dsum(dev, r * r, n)
            take = cost < best
            best = np.where(take, cost, best)
            row = np.stack([gains[0], gains[1], np.full(n, np.log(gam)),
                            np.full(n, np.log(margin)), np.full(n, np.log(margin))], axis=1)
            theta = np.where(take[:, None], row, theta)
    return theta


@register("pow_step")
def fit_pow(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    span = np.maximum(steps.w_hi - steps.w_lo, 1e-12)
    keep = ~steps.clipped
    dev, w, up, y = steps.dev[keep], steps.w[keep], steps.up[keep], along(steps)[keep]

    def unpack(t):
        t_hi, t_lo = np.clip(t[:, 3], -12, 5), np.clip(t[:, 4], -12, 5)
        return (t[:, 0], t[:, 1], np.exp(np.clip(t[:, 2], -5, 5)),
                steps.w_hi + span * np.exp(t_hi), steps.w_lo - span * np.exp(t_lo))

    def mean(t):
        dp, dn, gam, bmax, bmin = unpack(t)
        return np.where(up, dp[dev], dn[dev]) * _pow_q(bmax, bmin, gam)(w, dev, up)

    # iteratively reweighted: the noise is ∝ μ, so weights 1/μ from the previous pass
    # (fixed within a pass; weights of the current θ would bias μ up by a factor 1 + σ²)
    theta = _pow_start(steps, dev, w, up, y, span)
    floor = 0.05 * np.median(np.abs(y))
    for _ in range(2):
        weight = 1.0 / np.maximum(mean(theta), floor)
        theta = levenberg_marquardt(lambda t: (y - mean(t)) * weight, theta, dev,
                                    steps.n_devices, iters=40)
    dp, dn, gam, bmax, bmin = unpack(theta)
    shape = {"pow_gamma": float(np.mean(gam)),
             "pow_gamma_dtod": min(_spread(gam, float(np.mean(gam))), 1.0)}
    return Fit("pow_step", dp, dn, bmax, bmin, q=_pow_q(bmax, bmin, gam),
               params_per_device=5, shape=shape)
