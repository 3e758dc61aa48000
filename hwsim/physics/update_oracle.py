"""NumPy oracle of the pulsed-update kernels (``cython_ext/pulsed_update.pyx``: stochastic
trains; ``cython_ext/pulse_counts.pyx``: mean and explicit counts).

Same equations, same random words (counter-based, :mod:`hwsim.physics.counter_rng`),
same floating-point operations in the same order, so the oracle and the kernel agree
bit for bit, in the array's precision (float32 or float64 state: NumPy float32 ops
round like the kernel's ``float`` ops; exp/pow/sqrt go through float64 and are rounded
once, and so is the normal variate ξ).  Per pulse on a device with step Δ± (PHYSICS.md §1):

    base = Δ±·q±(w),   std = σ·base + Δ±·(σ_add + σ_slope·|w|),
    w ← clip(w ± (base + std·ξ), b_min, b_max)

and the lumped ConstantStep form for n pulses: ``n·Δ ± sqrt(n)·std·ξ``.
The oracle loops over samples and pulse slots and is vectorised over devices.
"""
from __future__ import annotations

import numpy as np

from hwsim.physics.counter_rng import normal_from_words, rand64
from hwsim.physics.pulse_trains import pack_trains

_U64 = np.uint64


class _Devices:
    """Flat views of one DeviceArray plus the per-call noise scalars."""

    def __init__(self, arr, noise, lumped, touched):
        self.arr = arr
        self.dt = arr.w.dtype.type          # the state precision: every operation in it
        self.sigma, self.sadd, self.sslope = (self.dt(v) for v in noise)
        self.lumped = lumped
        self.touched = touched

    def apply(self, idx, up, key, ctr, n=None):
        """One pulse (or, lumped, n pulses) on the distinct devices ``idx``."""
        a = self.arr
        if idx.size == 0:
            return
        w = a.w.flat[idx]
        dev = np.where(up, a.dw_up.flat[idx], a.dw_down.flat[idx])
        bmin, bmax = a.b_min.flat[idx], a.b_max.flat[idx]
        if n is None:
            q = np.empty_like(w)
            pu, pd = a.p_up.flat[idx], a.p_down.flat[idx]
            for sel, direction, nodes in ((up, True, a.nodes_up), (~up, False, a.nodes_down)):
                if sel.any():
                    q[sel] = a.cfg.q(direction, w[sel], pu[sel], pd[sel], bmin[sel],
                                     bmax[sel], a.scalars, nodes)
            base = dev * q
            std = self.sigma * base + dev * (self.sadd + self.sslope * np.abs(w))
        else:
            base = dev * n.astype(self.dt)
            root = np.sqrt(n.astype(np.float64)).astype(self.dt)    # <real>sqrt(<double>n)
            std = (self.sigma * dev + dev * (self.sadd + self.sslope * np.abs(w))) * root
        noisy = std > 0.0
        if noisy.any():       # the float64 normal, rounded once to the state precision
            xi = normal_from_words(rand64(key, ctr[noisy])).astype(self.dt)
            base[noisy] = base[noisy] + std[noisy] * xi
        w = np.where(up, w + base, w - base)
        a.w.flat[idx] = np.minimum(np.maximum(w, bmin), bmax)
        cnt = np.ones(idx.size, np.int64) if n is None else n.astype(np.int64)
        if a.pulse_count is not None:
            a.pulse_count.flat[idx] += cnt
        if self.touched is not None:
            self.touched.flat[idx] = 1

    def apply_counts(self, idx, up, n, key, ctr0):
        """n[k] pulses on device idx[k] (ctr0 + pulse ordinal), or lumped."""
        if self.lumped:
            self.apply(idx, up, key, ctr0, n)
            return
        for k in range(int(n.max()) if n.size else 0):
            sel = n > k
            self.apply(idx[sel], up[sel], key, ctr0[sel] + _U64(k))


def stochastic_update(arr, plan, keys, noise, lumped, touched=None) -> np.ndarray:
    """Oracle of ``stochastic_update``; returns stats (B, 5) like the kernel."""
    key_r, key_c, key_n = keys
    dv = _Devices(arr, noise, lumped, touched)
    m, n = arr.shape
    masks_r = pack_trains(plan.thr_rows, plan.bl, key_r)
    masks_c = pack_trains(plan.thr_cols, plan.bl, key_c)
    dev_ctr = np.arange(m * n, dtype=_U64).reshape(m, n) * _U64(64)
    stats = np.zeros((len(plan.bl), 5), np.int64)
    for b in range(len(plan.bl)):
        rm, cm = masks_r[b], masks_c[b]
        up = (plan.sign_rows[b].astype(np.int64)[:, None] * plan.sign_cols[b][None, :]) < 0
        ctr0 = dev_ctr + _U64(b * m * n * 64)
        if lumped:
            cnt = np.bitwise_count(rm[:, None] & cm[None, :]).astype(np.int64)
            idx = np.flatnonzero(cnt)
            dv.apply(idx, up.flat[idx], key_n, ctr0.flat[idx], cnt.flat[idx])
            pulses = int(cnt.sum())
        else:
            pulses = 0
            for s in range(int(plan.bl[b])):
                rows = np.flatnonzero((rm >> _U64(s)) & _U64(1))
                cols = np.flatnonzero((cm >> _U64(s)) & _U64(1))
                idx = (rows[:, None] * n + cols[None, :]).ravel()
                dv.apply(idx, up.flat[idx], key_n, ctr0.flat[idx] + _U64(s))
                pulses += idx.size
        stats[b] = (pulses, int(np.bitwise_count(rm).sum()), int(np.bitwise_count(cm).sum()),
                    int(np.count_nonzero(rm)), int(np.count_nonzero(cm)))
    return stats


def mean_count_update(arr, plan, bl_max, key_n, noise, lumped, touched=None) -> np.ndarray:
    """Oracle of ``mean_count_update``; returns pulses per sample (B,)."""
    dv = _Devices(arr, noise, lumped, touched)
    m, n = arr.shape
    dev_ctr = np.arange(m * n, dtype=_U64) * _U64(64)
    out = np.zeros(len(plan.k), np.int64)
    for b in range(len(plan.k)):
        cnt = np.minimum(np.floor(plan.row_amp[b][:, None] * plan.col_amp[b][None, :] + 0.5),
                         bl_max).astype(np.int64).ravel()
        idx = np.flatnonzero(cnt > 0)
        up = ((plan.sign_rows[b].astype(np.int64)[:, None] * plan.sign_cols[b][None, :])
              < 0).ravel()
        dv.apply_counts(idx, up[idx], cnt[idx], key_n, dev_ctr[idx] + _U64(b * m * n * 64))
        out[b] = int(cnt.sum())
    return out


def count_update(arr, counts, key_n, noise, lumped, touched=None, cols=None) -> int:
    """Oracle of ``count_update``: |n_ij| pulses, up where n_ij > 0.  With ``cols``
    (distinct column indices) ``counts`` is (M, k) and holds the columns ``cols``."""
    dv = _Devices(arr, noise, lumped, touched)
    if cols is None:
        flat = counts.ravel()
        idx = np.flatnonzero(flat)
        vals = flat[idx]
    else:
        r, c = np.nonzero(counts)
        idx = r * arr.shape[1] + np.asarray(cols, np.int64)[c]
        vals = counts[r, c]
    ctr0 = idx.astype(_U64) << _U64(32)
    dv.apply_counts(idx, vals > 0, np.abs(vals), key_n, ctr0)
    return int(np.abs(vals).sum())
