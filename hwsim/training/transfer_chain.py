"""All transfers of one mini-batch of the buffered Tiki-Taka family in one compiled call.

TTv2 (Gokmen, Front. Artif. Intell. 4:699148, 2021), c-TTv2 and AGAD (Rasch et al.,
Nat. Commun. 15:7133, 2024), PHYSICS.md §4.  After a mini-batch's gradient update the
array A does not change until the next one, so the column reads of all the batch's
transfers can be taken first; what then runs transfer after transfer — the buffer H,
AGAD's running mean m and reference p, the thresholds, the input and output choppers
— is the digital chain of this module, per chunk of distinct columns, in order::

    AGAD:  vt = v − p[:, j];  m[:, j] ← (1−ρ)·m[:, j] + ρ·v          (else vt = v)
    h = H[:, j] + (s·c_in[j]·c_out) ⊙ vt;   fire = enabled ∧ |h| ≥ 1
    n = clip(trunc(h), ±P) where fire;      H[:, j] = h·momentum where fire, else h
    c_in[j] flips (u < p_in, or every half period of reads of j); AGAD: p[:, j] ← m[:, j]
    a chunk reaching column N−1 ends a sweep (c_out flips with p_out); its columns run
    on from its first modulo N, so it does when first + length ≥ N

The uniforms ``u`` are the chopper stream's draws in the order the per-transfer code
drew them (one per read when the input chopper is random, M per sweep end when the
output chopper is on): a Generator hands out the same numbers in one call as in many.
The compiled kernel ``hwsim._ext.transfer_chain`` and :func:`chain_numpy` (its oracle
and the ``backend: numpy`` path) agree bit for bit, in float64 and float32 state.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

try:  # compiled kernel; its absence is reported when the cython backend is asked for
    from hwsim._ext import transfer_chain as _ext
except ImportError:  # pragma: no cover - exercised only on a broken install
    _ext = None

from hwsim.errors import BackendError
from hwsim.training.digital_accumulator import MAX_PULSES_LIMIT

IN_NONE, IN_RANDOM, IN_REGULAR = 0, 1, 2


class Chain(NamedTuple):
    """What the chain produced: pulse counts (M, total), crossings per chunk, the reads
    after which their column's c_in flipped (total,) bool, c_out flips per chunk, and
    the sweep count afterwards."""
    counts: np.ndarray
    writes: np.ndarray
    flipped: np.ndarray
    out_flips: np.ndarray
    sweeps: int


def uniforms_needed(cols, bounds, n: int, m: int, in_mode: int, out_on: bool) -> int:
    """How many chopper uniforms the chain uses (the order is the chain's)."""
    ends = int(np.count_nonzero(cols[bounds[:-1]] + np.diff(bounds) >= n))
    return (cols.size if in_mode == IN_RANDOM else 0) + (ends * m if out_on else 0)


def chain(H, v, cols, bounds, *, scale, c_in, c_out, chopped, momentum, max_pulses,
          agad=False, m_mean=None, p_ref=None, rho=0.0, sweeps=0, half_period=2,
          in_mode=IN_NONE, p_in=0.0, reads_col=None, out_on=False, p_out=0.0, u=None,
          backend="cython") -> Chain:
    """Run the chain over ``cols[bounds[c]:bounds[c+1]]`` (module doc); H, c_in, c_out,
    m_mean, p_ref, reads_col are updated in place.  ``v`` (total, M) the reads."""
    m, n = H.shape
    dt = H.dtype
    if dt not in (np.float64, np.float32) or not H.flags.c_contiguous:
        raise ValueError("H must be a C-contiguous float64 or float32 array")
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    bounds = np.ascontiguousarray(bounds, dtype=np.int64)
    v = np.ascontiguousarray(v, dtype=dt)
    total = cols.size
    if v.shape != (total, m) or bounds[0] != 0 or bounds[-1] != total or \
            np.any(np.diff(bounds) <= 0):
        raise ValueError(f"v must be ({total}, {m}) and bounds cover 0..{total} in chunks")
    if total and (cols.min() < 0 or cols.max() >= n):
        raise ValueError(f"cols must be column indices within 0..{n - 1}")
    if not (isinstance(max_pulses, (int, np.integer)) and 1 <= max_pulses <= MAX_PULSES_LIMIT):
        raise ValueError(f"max_pulses must be an integer in [1, {MAX_PULSES_LIMIT}]")
    if agad:
        for name, a in (("m_mean", m_mean), ("p_ref", p_ref)):
            if not (isinstance(a, np.ndarray) and a.dtype == dt and a.shape == H.shape
                    and a.flags.c_contiguous):
                raise ValueError(f"{name} must be a C-contiguous {dt} array like H")
    if reads_col is None:
        reads_col = np.zeros(n, np.int64)
    need = uniforms_needed(cols, bounds, n, m, in_mode, out_on)
    u = np.zeros(0) if u is None else np.ascontiguousarray(u, dtype=np.float64)
    if u.size != need:
        raise ValueError(f"the chain uses {need} uniforms, got {u.size}")
    nch = bounds.size - 1
    if backend == "numpy":
        return chain_numpy(H, v, cols, bounds, scale, c_in, c_out, chopped, momentum,
                           int(max_pulses), agad, m_mean, p_ref, rho, int(sweeps),
                           int(half_period), in_mode, p_in, reads_col, out_on, p_out, u)
    if _ext is None:
        raise BackendError("compiled kernel hwsim._ext.transfer_chain is missing; "
                           "rebuild with `pip install .`")
    counts = np.empty((m, total), np.int64)
    writes = np.empty(nch, np.int64)
    flipped = np.empty(total, np.int8)
    out_flips = np.empty(nch, np.int64)
    dummy = H if not agad else None
    sweeps = _ext.chain(H, v, cols, bounds, float(scale), c_in, c_out, bool(chopped),
                        float(momentum), int(max_pulses), bool(agad),
                        m_mean if agad else dummy, p_ref if agad else dummy, float(rho),
                        int(sweeps), int(half_period), int(in_mode), float(p_in), reads_col,
                        bool(out_on), float(p_out), u, counts, writes, flipped, out_flips)
    return Chain(counts, writes, flipped.view(bool), out_flips, int(sweeps))


def chain_numpy(H, v, cols, bounds, scale, c_in, c_out, chopped, momentum, max_pulses,
                agad, m_mean, p_ref, rho, sweeps, half_period, in_mode, p_in, reads_col,
                out_on, p_out, u) -> Chain:
    """NumPy twin of the kernel (inputs checked): per chunk, the operations of the
    per-transfer code it replaces, in the state's precision."""
    dt = H.dtype.type
    m, n = H.shape
    counts = np.zeros((m, cols.size), np.int64)
    nch = bounds.size - 1
    writes = np.zeros(nch, np.int64)
    flipped = np.zeros(cols.size, bool)
    out_flips = np.zeros(nch, np.int64)
    pos = 0
    for ch in range(nch):
        b0, b1 = int(bounds[ch]), int(bounds[ch + 1])
        cc, vv = cols[b0:b1], v[b0:b1]
        enabled = not (agad and sweeps < half_period)
        vt = vv
        if agad:
            vt = vv - p_ref[:, cc].T
            m_mean[:, cc] = dt(1.0 - rho) * m_mean[:, cc] + dt(rho) * vv.T
        sign = (c_in[cc][:, None] * c_out[None, :]).astype(dt) if chopped else dt(1.0)
        h = H[:, cc] + (dt(scale) * sign * vt).T
        fire = (np.abs(h) >= 1.0) & enabled
        cnt = np.clip(np.trunc(h), -max_pulses, max_pulses).astype(np.int64)
        cnt[~fire] = 0
        h[fire] *= dt(momentum)
        H[:, cc] = h
        counts[:, b0:b1] = cnt
        writes[ch] = int(fire.sum())
        if in_mode != IN_NONE:
            reads_col[cc] += 1
            if in_mode == IN_RANDOM:
                sel = u[pos:pos + cc.size] < p_in
                pos += cc.size
            else:
                sel = reads_col[cc] >= half_period
            flip = cc[sel]
            flipped[b0:b1] = sel
            c_in[flip] *= -1
            reads_col[flip] = 0
            if agad:
                p_ref[:, flip] = m_mean[:, flip]
        if cc[0] + cc.size >= n:           # the chunk reaches column N−1 (issue 16's fix)
            sweeps += 1
            if out_on:
                sel = u[pos:pos + m] < p_out
                pos += m
                c_out[sel] *= -1
                out_flips[ch] = int(sel.sum())
    return Chain(counts, writes, flipped, out_flips, sweeps)
