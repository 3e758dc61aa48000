"""Digital accumulators of the training programs: the χ word array of mixed precision
(accumulate, quantize, threshold, write back) and the transfer buffer H of Tiki-Taka v2,
c-TTv2 and AGAD (:func:`transfer_accumulate`).

Nandakumar et al., Front. Neurosci. 14:406 (2020), PHYSICS.md §4.  Per layer and
mini-batch, with the batch gradient ``g = dᵀx`` and ``c = −η/weight_scale``::

    s  = χ + c·g
    s  = clip(round(s / lsb), −top/lsb, top/lsb) · lsb,   lsb = ε / 2^chi_frac_bits,
                                                          top = (2^(chi_bits−1) − 1)·lsb
    A += s − χ                                   (everything χ received, for the books)
    n  = clip(trunc(s / ε), −P, P)               (pulses per device, P = max_pulses)
    χ  = s − n·ε ;   W += n·ε                    (moved out of χ into the array)

``round`` is round-half-to-even (np.round); ``chi_bits = 0`` skips the quantization
(χ in float64).  The function also returns the number of crossings (``n ≠ 0``) and
``max_j |n|`` per row, the pulse budget of a serial row write.

Why here (layer 5, ``hwsim.training``): χ is the state of the digital accumulator as
the mixed-precision *program* uses it — fixed-point digital arithmetic, not device
physics, so it does not belong in ``hwsim.physics`` (analog numbers only); the
component ``hwsim.components.accumulator`` models the timing and actions of the
hardware block, not its numbers.  The compiled kernel ``hwsim._ext.digital_accumulator``
(layer 2) is reached only through this validated wrapper; its NumPy twin
:func:`chi_update_numpy` below is the test oracle and the ``backend="numpy"`` path.
Both do the same IEEE operations in the same order and agree bit for bit.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwsim.errors import BackendError, NonFiniteError

try:  # compiled kernel; its absence is reported when the cython backend is asked for
    from hwsim._ext import digital_accumulator as _ext
except ImportError:  # pragma: no cover - exercised only on a broken install
    _ext = None

BACKENDS = ("cython", "numpy")
#: largest max_pulses: the clip bound must be an exact float64 integer
MAX_PULSES_LIMIT = 2 ** 52


class ChiGrid(NamedTuple):
    """Fixed-point grid of χ: LSB and the saturating code range [lo, hi] in LSBs."""
    lsb: float
    lo: float
    hi: float


class ChiWrite(NamedTuple):
    """Outcome of one χ update: pulses per device, crossings, max |pulses| per row."""
    counts: np.ndarray          # (M, N) int64, n = clip(trunc(χ/ε), ±max_pulses)
    writes: int                 # count_nonzero(counts)
    row_max: np.ndarray         # (M,) int64, max_j |counts[i, j]|


def kernels():
    """The compiled module, or :class:`BackendError` with the rebuild hint."""
    if _ext is None:
        raise BackendError("compiled kernel hwsim._ext.digital_accumulator is missing; "
                           "rebuild with `pip install .`")
    return _ext


def chi_grid(eps: float, chi_bits: int, chi_frac_bits: int) -> ChiGrid | None:
    """The grid of a ``chi_bits``-wide χ word with LSB ε/2^chi_frac_bits (None: float64)."""
    if chi_bits == 0:
        return None
    lsb = eps / (1 << chi_frac_bits)
    top = (2.0 ** (chi_bits - 1) - 1) * lsb
    return ChiGrid(lsb, -top / lsb, top / lsb)


def _state(arr, name: str, shape) -> None:
    if not (isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.ndim == 2
            and arr.flags.c_contiguous and arr.flags.writeable):
        raise ValueError(f"{name} must be a writeable C-contiguous 2-D float64 array")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")


def _check(chi, grad, accumulated, written, coef, eps, chi_bits, chi_frac_bits, max_pulses):
    _state(chi, "chi", None)
    _state(accumulated, "accumulated", chi.shape)
    _state(written, "written", chi.shape)
    grad = np.ascontiguousarray(grad, dtype=np.float64)
    if grad.shape != chi.shape:
        raise ValueError(f"grad has shape {grad.shape}, expected {chi.shape} (the χ array)")
    if not np.isfinite(grad.sum()) and not np.all(np.isfinite(grad)):
        raise NonFiniteError("grad contains NaN or inf")   # (a finite sum proves all finite)
    if not np.isfinite(coef):
        raise ValueError(f"coef must be finite, got {coef!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps (the device granularity) must be finite and > 0, got {eps!r}")
    for name, v, lo, hi in (("chi_bits", chi_bits, 0, 64), ("chi_frac_bits", chi_frac_bits, 0, 62),
                            ("max_pulses", max_pulses, 1, MAX_PULSES_LIMIT)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    return grad


def chi_update(chi: np.ndarray, grad: np.ndarray, coef: float, accumulated: np.ndarray,
               written: np.ndarray, eps: float, *, chi_bits: int, chi_frac_bits: int,
               max_pulses: int, backend: str = "cython") -> ChiWrite:
    """Add ``coef·grad`` into χ, quantize, threshold at ε and write back (in place).

    ``chi``, ``accumulated`` and ``written`` (same (M, N) float64 C-contiguous arrays)
    are updated in place; ``grad`` is the batch gradient dᵀx.  ``backend`` is
    ``"cython"`` (one fused nogil pass) or ``"numpy"`` (the oracle); bit-identical.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    grad = _check(chi, grad, accumulated, written, coef, eps, chi_bits, chi_frac_bits,
                  max_pulses)
    grid = chi_grid(float(eps), int(chi_bits), int(chi_frac_bits))
    if backend == "numpy":
        return chi_update_numpy(chi, grad, float(coef), accumulated, written, float(eps),
                                grid, int(max_pulses))
    ext = kernels()
    m = chi.shape[0]
    counts = np.empty(chi.shape, dtype=np.int64)
    row_max = np.empty(m, dtype=np.int64)
    lsb, lo, hi = grid if grid is not None else (1.0, 0.0, 0.0)
    writes = ext.chi_update(chi, grad, float(coef), accumulated, written, counts, row_max,
                            float(eps), grid is not None, lsb, lo, hi, int(max_pulses))
    return ChiWrite(counts, int(writes), row_max)


def chi_update_numpy(chi, grad, coef, accumulated, written, eps, grid, max_pulses):
    """NumPy twin of the kernel (inputs validated); the operations of the original code."""
    delta = coef * grad
    s = chi + delta
    if grid is not None:
        s = np.clip(np.round(s / grid.lsb), grid.lo, grid.hi) * grid.lsb
    accumulated += s - chi                              # what χ actually received
    counts = np.clip(np.trunc(s / eps), -max_pulses, max_pulses).astype(np.int64)
    writes = int(np.count_nonzero(counts))
    s -= counts * eps
    written += counts * eps
    chi[...] = s
    row_max = (np.abs(counts).max(axis=1) if counts.shape[1]
               else np.zeros(counts.shape[0], dtype=np.int64))
    return ChiWrite(counts, writes, row_max)


def transfer_accumulate(H: np.ndarray, cols: np.ndarray, v: np.ndarray, scale: float,
                        c_in: np.ndarray | None, c_out: np.ndarray | None, momentum: float,
                        max_pulses: int, *, enabled: bool = True,
                        backend: str = "cython") -> tuple[np.ndarray, int]:
    """Transfer of the column reads ``v`` (k, M) of columns ``cols`` into H (in place).

    Gokmen & Haensch, Front. Neurosci. 14:103 (2020) (TTv2); Rasch et al., Nat. Commun.
    15:7133 (2024) (c-TTv2, AGAD; PHYSICS.md §4)::

        h    = H[:, cols] + (scale · s ⊙ v)ᵀ,   s[c, i] = c_in[cols[c]] · c_out[i] (chopped)
        fire = |h| ≥ 1   (none while not ``enabled``: AGAD warm-up)
        n    = clip(trunc(h), ±max_pulses) where fire, else 0
        H[:, cols] = h, times ``momentum`` where fire

    ``c_in``/``c_out`` None: no choppers (s = 1).  Returns (n (M, k) int64, crossings).
    The compiled kernel and :func:`transfer_accumulate_numpy` agree bit for bit.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    _state(H, "H", None)
    m, n = H.shape
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    v = np.ascontiguousarray(v, dtype=np.float64)
    k = cols.size
    if cols.ndim != 1 or (k and (cols.min() < 0 or cols.max() >= n)) or \
            len(set(cols.tolist())) != k:
        raise ValueError(f"cols must be distinct column indices within 0..{n - 1}")
    if v.shape != (k, m):
        raise ValueError(f"v has shape {v.shape}, expected ({k}, {m}) (one read per column)")
    if (c_in is None) != (c_out is None) or (c_in is not None and (
            np.shape(c_in) != (n,) or np.shape(c_out) != (m,))):
        raise ValueError(f"c_in ({n},) and c_out ({m},) must both be given or both None")
    if not (isinstance(max_pulses, (int, np.integer)) and 1 <= max_pulses <= MAX_PULSES_LIMIT):
        raise ValueError(f"max_pulses must be an integer in [1, {MAX_PULSES_LIMIT}]")
    if backend == "numpy":
        return transfer_accumulate_numpy(H, cols, v, scale, c_in, c_out, momentum,
                                         max_pulses, enabled)
    counts = np.empty((m, k), dtype=np.int64)
    chopped = c_in is not None
    writes = kernels().transfer_accumulate(
        H, cols, v, float(scale), c_in if chopped else _ONES, c_out if chopped else _ONES,
        chopped, float(momentum), int(max_pulses), bool(enabled), counts)
    return counts, int(writes)


_ONES = np.ones(1)          # stands in for the chopper signs when there are none


def transfer_accumulate_numpy(H, cols, v, scale, c_in, c_out, momentum, max_pulses,
                              enabled):
    """NumPy twin of the kernel (inputs validated): the operations of the original code."""
    sign = c_in[cols][:, None] * c_out[None, :] if c_in is not None else 1.0
    h = H[:, cols] + (scale * sign * v).T
    fire = np.abs(h) >= 1.0
    if not enabled:
        fire[:] = False
    counts = np.clip(np.trunc(h), -max_pulses, max_pulses).astype(np.int64)
    counts[~fire] = 0
    h[fire] *= momentum
    H[:, cols] = h
    return counts, int(fire.sum())
