"""piecewise_step from data: lookup tables of the step size against the weight.

hwsim's PiecewiseStep (PHYSICS.md §1) moves device i by Δ±_i·interp(nodes±, u) with
u = (w − b_min,i)/(b_max,i − b_min,i) and the nodes evenly spaced over u ∈ [0, 1].
From the measured steps (bounds = the observed extremes, which clip):

1. binned: the table T± (K nodes, ``piecewise_nodes`` [11]) is the least-squares fit of y ≈ c±_i·Σ_k T±_k φ_k(u)
   with φ_k the linear-interpolation hat functions — each step counts for the two nodes
   around it, in proportion;
2. smoothed: plus a second-difference penalty λ Σ (T_{k+1} − 2T_k + T_{k−1})², λ = ``piecewise_smoothing`` [1 %]
   of the mean steps per node (it also fills nodes no step reached);
3. monotone where the data are: when the fitted table falls (rises) from end to end, it
   is made non-increasing (non-decreasing) by weighted pool-adjacent-violators, weights
   = the steps per node;
4. device-to-device scaling: c±_i by closed-form least squares with the table fixed,
   alternating with step 1 three times (mean c± = 1).

The YAML gets dw_min = max T, nodes = T/dw_min (factors ≤ 1), the gains' spreads from
Δ±_i = c±_i·dw_min and the cycle-to-cycle noise from the spread around the table.
"""
from __future__ import annotations

import numpy as np

from hwsim.fit.models import Fit, along, hard_bounds, register
from hwsim.fit.optimize import dsum, scale_fit
from hwsim.fit.options import DEFAULT, FitOptions
from hwsim.fit.pulse_data import Steps



def _hat(u, k_nodes):
    """(left node index, weight of the right node) of u ∈ [0, 1]."""
    pos = np.clip(u, 0.0, 1.0) * (k_nodes - 1)
    k = np.minimum(pos.astype(np.intp), k_nodes - 2)
    return k, pos - k


def _table(k, f, y, k_nodes, smooth):
    """Smoothed least-squares node values of y ≈ Σ T φ(u) (f = right weight)."""
    a = np.zeros((k_nodes, k_nodes))
    b = np.zeros(k_nodes)
    wl, wr = 1.0 - f, f
    for (i, wi), (j, wj) in (((k, wl), (k, wl)), ((k, wl), (k + 1, wr)),
                             ((k + 1, wr), (k, wl)), ((k + 1, wr), (k + 1, wr))):
        np.add.at(a, (i, j), wi * wj)
    np.add.at(b, k, wl * y)
    np.add.at(b, k + 1, wr * y)
    d2 = np.diff(np.eye(k_nodes), 2, axis=0)
    lam = smooth * max(len(y), 1) / k_nodes
    return np.linalg.solve(a + lam * d2.T @ d2 + 1e-12 * np.eye(k_nodes), b)


def _pav(values, weights, increasing):
    """Weighted isotonic regression (pool adjacent violators)."""
    v = values if increasing else -values
    blocks = []                                    # [mean, weight, count]
    for x, w in zip(v, weights):
        blocks.append([x, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out = np.concatenate([[m] * c for m, _, c in blocks])
    return out if increasing else -out


def _fit_direction(steps, sel, u, y, k_nodes, smooth):
    n = steps.n_devices
    dev = steps.dev[sel]
    k, f = _hat(u[sel], k_nodes)
    scale = np.ones(n)
    for _ in range(3):
        table = _table(k, f, y[sel] / scale[dev], k_nodes, smooth)
        shape = table[k] + f * (table[k + 1] - table[k])
        scale = scale_fit(dev, shape, y[sel], n)
        scale = scale / np.mean(scale) if np.mean(scale) > 0 else np.ones(n)
    counts = np.bincount(k, weights=1.0 - f, minlength=k_nodes) + \
        np.bincount(k + 1, weights=f, minlength=k_nodes)
    table = np.maximum(table, 0.0)
    if table[-1] != table[0]:
        table = _pav(table, counts + 1e-3, increasing=table[-1] > table[0])
    shape = table[k] + f * (table[k + 1] - table[k])
    return np.maximum(table, 0.0), scale_fit(dev, shape, y[sel], n)


@register("piecewise_step")
def fit_piecewise(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    k_nodes, smooth = opts.piecewise_nodes, opts.piecewise_smoothing
    bnd = hard_bounds(steps)
    bmax, bmin = bnd.bmax, bnd.bmin
    span = np.maximum(bmax - bmin, 1e-12)
    u = (steps.w - bmin[steps.dev]) / span[steps.dev]
    y, keep = along(steps), ~steps.clipped
    t_up, c_up = _fit_direction(steps, keep & steps.up, u, y, k_nodes, smooth)
    t_dn, c_dn = _fit_direction(steps, keep & ~steps.up, u, y, k_nodes, smooth)
    top = float(max(t_up.max(), t_dn.max()))
    top = top if top > 0 else 1.0
    nodes_up, nodes_dn = t_up / top, t_dn / top

    def q(w, dev, up):
        kk, ff = _hat((w - bmin[dev]) / span[dev], k_nodes)
        return np.where(up, nodes_up[kk] + ff * (nodes_up[kk + 1] - nodes_up[kk]),
                        nodes_dn[kk] + ff * (nodes_dn[kk + 1] - nodes_dn[kk]))

    shape = {"piecewise_up": [float(v) for v in nodes_up],
             "piecewise_down": [float(v) for v in nodes_dn]}
    counts = dsum(steps.dev[keep], np.ones(int(keep.sum())), steps.n_devices)
    notes = bnd.notes + [f"tables of {k_nodes} nodes over [b_min, b_max]; "
             f"{int(counts.min())}-{int(counts.max())} steps per device"]
    return Fit("piecewise_step", c_up * top, c_dn * top, bmax, bmin, q=q,
               params_per_device=4, params_global=2 * k_nodes, shape=shape, notes=notes,
               bound_ok=bnd.ok)
