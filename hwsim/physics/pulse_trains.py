"""Pulse trains of the parallel update ΔW = −η d xᵀ (PHYSICS.md §2 steps 1–4).

Gokmen & Vlasov (Front. Neurosci. 10:333, 2016): per sample, with x_m = max|x|,
d_m = max|d| and the device granularity ε,

1. ``k = η x_m d_m / ε`` (expected pulses on the busiest device);
2. BL management: ``BL = min(ceil(k), BL_max)``, ``A = B = sqrt(η/(ε BL))``;
3. update management: if k > BL_max the gradient is shrunk by BL_max/k (implicit
   clipping), and ``A ← A sqrt(x_m/d_m)``, ``B ← B sqrt(d_m/x_m)`` with the shrunk d_m,
   so that the largest row and column probabilities are equal and ≤ 1;
4. row i fires in each of the BL slots with probability ``A|d_i|``, column j with
   ``B|x_j|``; a coincidence is one pulse on device (i, j) in direction −sign(d_i x_j).

The expected number of pulses on (i, j) is BL·A|d_i|·B|x_j| = η|d_i x_j|/ε (times the
clipping factor), so the expected change is −η d_i x_j for a device of step ε.

The slot decisions use the counter-based words of :mod:`hwsim.physics.counter_rng`:
line l of sample b, slot pair p uses word ``rand64(key, (b·L + l)·32 + p)``; its low 32
bits decide slot 2p and its high 32 bits slot 2p + 1.  :func:`pack_trains` is the NumPy
oracle of the kernel's packing into one uint64 mask per line; the plans here are the
oracles of ``cython_ext/pulse_plan.pyx`` (bit for bit).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.config.params import spec_of
from hwsim.config.update import UpdateConfig
from hwsim.physics.counter_rng import bernoulli_thresholds, rand64

#: slots per train: one bit of a uint64 mask each; declared once, as the range of bl_max
MAX_SLOTS = int(spec_of(UpdateConfig, "bl_max").hi)
PAIRS = MAX_SLOTS // 2


@dataclass(frozen=True)
class TrainPlan:
    """Per-sample pulse-train settings and per-line probabilities of one mini-batch."""
    k: np.ndarray          # (B,) float   expected pulses on the busiest device
    bl: np.ndarray         # (B,) int32   slots used (0: nothing to do)
    clipped: np.ndarray    # (B,) bool    k > BL_max (gradient shrunk)
    p_rows: np.ndarray     # (B, M) float row firing probability per slot
    p_cols: np.ndarray     # (B, N) float column firing probability per slot
    thr_rows: np.ndarray   # (B, M) uint64 floor(p·2³²)
    thr_cols: np.ndarray   # (B, N) uint64
    sign_rows: np.ndarray  # (B, M) int8 sign(d)
    sign_cols: np.ndarray  # (B, N) int8 sign(x)


def _maxima(x, d, lr, eps):
    x_m = np.max(np.abs(x), axis=1)
    d_m = np.max(np.abs(d), axis=1)
    k = lr * x_m * d_m / eps
    return x_m, d_m, k


def plan_stochastic_trains(x: np.ndarray, d: np.ndarray, lr: float, eps: float, cfg) -> TrainPlan:
    """Steps 1–3 of PHYSICS.md §2 for every sample of a mini-batch (x: (B,N), d: (B,M))."""
    if cfg.bl_max < 1 or cfg.bl_max > MAX_SLOTS:
        raise ValueError(f"bl_max must be within 1..{MAX_SLOTS}, got {cfg.bl_max}")
    x_m, d_m, k = _maxima(x, d, lr, eps)
    active = k > 0
    bl_max = int(cfg.bl_max)
    bl = np.where(active, bl_max if cfg.fixed_bl else
                  np.minimum(np.ceil(np.where(active, k, 1.0)), bl_max), 0).astype(np.int32)
    clipped = k > bl_max
    safe_bl = np.maximum(bl, 1)
    a = np.sqrt(lr / (eps * safe_bl))
    b = a.copy()
    dscale = np.ones_like(k)
    if cfg.update_management:
        dscale = np.where(clipped, bl_max / np.where(clipped, k, 1.0), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(active, x_m / (d_m * dscale), 1.0)
        a = a * np.sqrt(ratio)
        b = b / np.sqrt(ratio)
    p_rows = np.minimum((a * dscale)[:, None] * np.abs(d), 1.0)
    p_cols = np.minimum(b[:, None] * np.abs(x), 1.0)
    p_rows[~active] = 0.0
    p_cols[~active] = 0.0
    return TrainPlan(k=k, bl=bl, clipped=clipped, p_rows=p_rows, p_cols=p_cols,
                     thr_rows=bernoulli_thresholds(p_rows), thr_cols=bernoulli_thresholds(p_cols),
                     sign_rows=np.sign(d).astype(np.int8), sign_cols=np.sign(x).astype(np.int8))


@dataclass(frozen=True)
class MeanCountPlan:
    """Deterministic trains: device (i, j) of sample b gets n = ⌊a_i c_j + ½⌋ ≤ BL_max pulses."""
    k: np.ndarray          # (B,)
    clipped: np.ndarray    # (B,) bool
    row_amp: np.ndarray    # (B, M) a_i = η·s·|d_i|/ε (s = BL_max/k when clipped)
    col_amp: np.ndarray    # (B, N) c_j = |x_j|
    bl: np.ndarray         # (B,) int32 max n over the array (train length)
    row_slots: np.ndarray  # (B,) int64 Σ_i max_j n_ij (row-driver activity)
    col_slots: np.ndarray  # (B,) int64 Σ_j max_i n_ij
    sign_rows: np.ndarray
    sign_cols: np.ndarray


def _round_half_up(v):
    return np.floor(v + 0.5)


def plan_mean_count(x, d, lr, eps, cfg) -> MeanCountPlan:
    """MeanCount trains (PHYSICS.md §2): n_ij = round(η|d_i x_j|/ε), capped at BL_max,
    with the same implicit clipping as update management when k > BL_max."""
    _, _, k = _maxima(x, d, lr, eps)
    bl_max = int(cfg.bl_max)
    clipped = k > bl_max
    scale = np.where(clipped & cfg.update_management, bl_max / np.where(clipped, k, 1.0), 1.0)
    row_amp = (lr * scale / eps)[:, None] * np.abs(d)
    col_amp = np.abs(x)
    a_m, c_m = row_amp.max(axis=1), col_amp.max(axis=1)
    bl = np.minimum(_round_half_up(a_m * c_m), bl_max).astype(np.int32)
    row_slots = np.minimum(_round_half_up(row_amp * c_m[:, None]), bl_max).sum(axis=1)
    col_slots = np.minimum(_round_half_up(a_m[:, None] * col_amp), bl_max).sum(axis=1)
    return MeanCountPlan(k=k, clipped=clipped, row_amp=row_amp, col_amp=col_amp, bl=bl,
                         row_slots=row_slots.astype(np.int64), col_slots=col_slots.astype(np.int64),
                         sign_rows=np.sign(d).astype(np.int8), sign_cols=np.sign(x).astype(np.int8))


def pack_trains(thr: np.ndarray, bl: np.ndarray, key) -> np.ndarray:
    """NumPy oracle of the kernel packing: uint64 slot masks (B, L) of lines firing.

    Bit s of mask[b, l] is set when slot s < bl[b] of line l fires in sample b.
    """
    n_b, n_l = thr.shape
    ctr = ((np.arange(n_b, dtype=np.uint64)[:, None, None] * np.uint64(n_l)
            + np.arange(n_l, dtype=np.uint64)[None, :, None]) * np.uint64(PAIRS)
           + np.arange(PAIRS, dtype=np.uint64)[None, None, :])
    h = rand64(key, ctr)
    t = thr[:, :, None]
    fire = np.stack([(h & np.uint64(0xFFFFFFFF)) < t, (h >> np.uint64(32)) < t], axis=-1)
    fire = fire.reshape(n_b, n_l, MAX_SLOTS)
    fire &= (np.arange(MAX_SLOTS)[None, :] < np.asarray(bl)[:, None])[:, None, :]
    bits = np.left_shift(np.uint64(1), np.arange(MAX_SLOTS, dtype=np.uint64))
    return np.bitwise_or.reduce(np.where(fire, bits, np.uint64(0)), axis=-1)
