"""DAC / ADC clip-and-quantize and the elementwise MVM periphery stages.

Quantizer (uniform, mid-tread, symmetric around 0)::

    q(t) = round(clip(t, -b, b) / Δ) · Δ,      Δ = b / (2^(bits-1) - 1)

so a ``bits``-wide converter has ``2^bits - 1`` levels ``k·Δ``,
``k ∈ {-(2^(bits-1)-1), …, 2^(bits-1)-1}``, i.e. ``2^bits - 2`` steps across
``[-b, b]``: the two's-complement code ``-2^(bits-1)`` is left unused so that the
levels stay symmetric and 0 is exact.  This is the convention of the RPU periphery
model (Gokmen & Vlasov 2016; Rasch et al. 2024, resolution ``1/(2^bits - 2)`` of the
full range).  ``bits=None`` disables quantization (clip only).

Each function dispatches on ``backend``: ``"cython"`` (``hwsim._ext.quantize``,
GIL released, one call per 2-D batch) or ``"numpy"`` (the oracle).  The two do the
same IEEE operations in the same order (``round(t · (1/Δ)) · Δ`` with round-half-even
done as ``(u + 1.5·2^52) − 1.5·2^52``), so with the same
noise arrays they agree bit for bit.  Noise drawn *inside* the Cython kernels uses
our ziggurat on the caller's bit generator; the NumPy twin draws the same numbers
with :func:`hwsim.physics.ziggurat.normals` (same words, same order, same generator
state afterwards), so drawn noise agrees bit for bit too and ``run.backend: numpy``
reproduces a Cython run.
"""
from __future__ import annotations

import numpy as np

from hwsim.errors import BackendError, NonFiniteError
from hwsim.physics.ziggurat import normals

try:  # compiled kernels; absence is reported when the cython backend is asked for
    from hwsim._ext import quantize as _ext
except ImportError:  # pragma: no cover - exercised only on a broken install
    _ext = None

BACKENDS = ("cython", "numpy")


def kernels():
    """The compiled module, or :class:`BackendError` with the rebuild hint."""
    if _ext is None:
        raise BackendError("compiled kernel hwsim._ext.quantize is missing; "
                           "rebuild with `pip install .`")
    return _ext


def check_backend(backend: str) -> bool:
    """True for the Cython backend (after checking it is importable)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "cython":
        kernels()
        return True
    return False


def step_size(bound: float, bits: int | None) -> float:
    """Quantization step Δ = bound / (2^(bits-1) - 1); 0.0 when ``bits`` is None."""
    if not (np.isfinite(bound) and bound > 0):
        raise ValueError(f"converter bound must be a finite number > 0, got {bound!r}")
    if bits is None:
        return 0.0
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise ValueError(f"converter bits must be an integer ≥ 2 or None, got {bits!r}")
    if bits < 2:
        raise ValueError(f"converter bits must be ≥ 2 (symmetric levels need a sign bit), "
                         f"got {bits}")
    if bits > 52:
        raise ValueError(f"converter bits must be ≤ 52 (float64 mantissa), got {bits}")
    return float(bound) / float(2 ** (bits - 1) - 1)


def levels(bound: float, bits: int) -> np.ndarray:
    """All output levels of a ``bits``-wide converter with range ±``bound``."""
    delta = step_size(bound, bits)
    k = np.arange(-(2 ** (bits - 1) - 1), 2 ** (bits - 1))
    return k * delta


def as_batch(x, name: str) -> np.ndarray:
    """A finite, C-contiguous float64 2-D array (1-D input is one sample)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 1-D or 2-D array, got shape {arr.shape}")
    if not np.isfinite(arr.sum()) and not np.all(np.isfinite(arr)):
        raise NonFiniteError(f"{name} contains NaN or inf")  # (a finite sum proves all finite)
    return np.ascontiguousarray(arr)


def clip_quantize(x, bound: float, bits: int | None, *, backend: str = "cython"
                  ) -> tuple[np.ndarray, int]:
    """Clip a batch to ±bound and quantize it; returns (levels, #saturated values).

    A value saturates when ``|x| >= bound`` (it lands on the end code).
    """
    arr = as_batch(x, "x")
    delta = step_size(bound, bits)
    inv = 1.0 / delta if delta > 0 else 0.0
    if check_backend(backend):
        out = np.empty_like(arr)
        sat = _ext.clip_quantize(arr, out, float(bound), delta, inv)
        return out, int(sat)
    return clip_quantize_numpy(arr, float(bound), delta, inv)


def clip_quantize_numpy(x: np.ndarray, bound: float, delta: float, inv: float):
    """NumPy twin of ``clip_quantize`` (x already validated)."""
    sat = int(np.count_nonzero(np.abs(x) >= bound))
    t = np.clip(x, -bound, bound)
    if delta > 0:
        t = _round(t * inv) * delta
    return t, sat


#: 1.5·2^52: (u + M) − M rounds u to the nearest integer, ties to even (|u| < 2^51)
ROUND_MAGIC = 6755399441055744.0


def _round(u: np.ndarray) -> np.ndarray:
    """Round half to even exactly like the kernel (two IEEE adds, no libm call)."""
    t = u + ROUND_MAGIC
    t -= ROUND_MAGIC
    return t


# --- stages used by hwsim.physics.periphery ------------------------------------------
def row_abs_max(x: np.ndarray, use_ext: bool) -> np.ndarray:
    """max_j |x[b, j]| per sample (noise management)."""
    if use_ext:
        out = np.empty(x.shape[0])
        _ext.row_abs_max(x, out)
        return out
    return np.max(np.abs(x), axis=1) if x.shape[1] else np.zeros(x.shape[0])


def abs_line_sums(w: np.ndarray, transposed: bool, use_ext: bool) -> np.ndarray:
    """Σ|w| along every driven line: column sums (forward) or row sums (transposed)."""
    if use_ext:
        out = np.empty(w.shape[0] if transposed else w.shape[1])
        _ext.abs_line_sums(w, out, transposed)
        return out
    a = np.abs(w)
    return _lane_row_sums(a) if transposed else _sequential_sum(a)


def _sequential_sum(a: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """``start + a[0] + a[1] + …`` along axis 0, in that order (the kernels' loop;
    ``ndarray.sum`` may add pairwise)."""
    if start is not None:
        a = np.concatenate([start[None, :], a])
    if a.shape[0] == 0:
        return np.zeros(a.shape[1])
    return np.add.accumulate(a, axis=0)[-1]


def _lane_row_sums(a: np.ndarray) -> np.ndarray:
    """Row sums as ``hw_abs_row_sums`` adds them: eight lanes over blocks of eight,
    combined ((0+1)+(2+3))+((4+5)+(6+7)), then the tail in order."""
    m, n = a.shape
    n8 = n - n % 8
    if n8:
        acc = np.add.accumulate(a[:, :n8].reshape(m, n8 // 8, 8), axis=1)[:, -1, :]
    else:
        acc = np.zeros((m, 8))
    tot = ((acc[:, 0] + acc[:, 1]) + (acc[:, 2] + acc[:, 3])) + \
        ((acc[:, 4] + acc[:, 5]) + (acc[:, 6] + acc[:, 7]))
    for j in range(n8, n):
        tot = tot + a[:, j]
    return tot


def abs_col_sums_at(w: np.ndarray, cols: np.ndarray, use_ext: bool) -> np.ndarray:
    """Σ_i |w[i, j]| for the columns j in ``cols`` (int64): bitwise the entries of
    :func:`abs_line_sums` (forward) at those columns (rows added in order)."""
    if use_ext:
        out = np.empty(cols.size)
        _ext.abs_col_sums_at(w, cols, out)
        return out
    return _sequential_sum(np.abs(w[:, cols]))


def dac_stage(x, scale, bound, delta, inv, noise_std, noise, rng, sq_sums, use_ext):
    """DAC: ``v = q(x · scale_b)`` then ``+ input noise``; returns (v, active count).

    ``noise`` is a pre-drawn, pre-scaled array or None (then N(0, noise_std²) is drawn
    from ``rng``).  ``sq_sums`` (per input line) accumulates Σ_b v².
    """
    if use_ext:
        v = np.empty_like(x)
        active = _ext.dac_stage(x, scale, bound, delta, inv, noise_std, noise,
                                rng.bit_generator if rng is not None else None, v, sq_sums)
        return v, int(active)
    t = np.clip(x * scale[:, None], -bound, bound)
    if delta > 0:
        t = _round(t * inv) * delta
    active = int(np.count_nonzero(t))
    if noise is not None:
        t = t + noise
    elif noise_std > 0:
        t = t + noise_std * normals(rng, t.shape)
    sq_sums[...] = _sequential_sum(t * t, sq_sums)      # row by row, as the kernel adds
    return t, active


def dac_front(x, abs_max, bound, out_gain, delta, inv, noise_std, rng, sq_sums):
    """Compiled first pass of a read: input check, noise management and DAC in one call.

    Returns (v, active, in_scale, out_scale); active is −1 when x holds NaN or inf.
    Equal to :func:`row_abs_max`, the scales of :func:`hwsim.physics.periphery.mvm` and
    :func:`dac_stage` one after another (which the NumPy backend runs)."""
    v = np.empty_like(x)
    in_scale, out_scale = np.empty(x.shape[0]), np.empty(x.shape[0])
    active = _ext.dac_front(x, abs_max, bound, out_gain, delta, inv, noise_std,
                            rng.bit_generator if rng is not None else None, v, in_scale,
                            out_scale, sq_sums)
    return v, int(active), in_scale, out_scale


def read_pass(x, w_read, transposed, abs_max, in_bound, out_gain, in_delta, in_inv,
              in_noise, in_rng, out_noise, out_rng, out_bound, out_delta, out_inv, sq_sums):
    """Compiled first pass of a read without weight noise: :func:`dac_front`, the product
    and :func:`adc_stage` (σ_out per sample) in one call, the same operations in the same
    order (noise from ``in_rng`` / ``out_rng``, each None for none).  Returns
    (y, saturations, flags, active, in_scale, out_scale), or None when x holds NaN or
    inf."""
    return _ext.read_pass(x, w_read, transposed, abs_max, in_bound, out_gain, in_delta,
                          in_inv, in_noise, in_rng.bit_generator if in_rng is not None else None,
                          out_noise, out_rng.bit_generator if out_rng is not None else None,
                          out_bound, out_delta, out_inv, sq_sums)


def adc_stage(y, noise_std, noise, rng, bound, delta, inv, out_scale, use_ext):
    """ADC: ``t = y + noise``, clip ±bound, quantize, times ``out_scale_b``.

    ``noise_std`` is a (B,) per-sample or (B, P) per-output std; ``noise`` a pre-drawn,
    pre-scaled array, else N(0, noise_std²) from ``rng`` (None = no noise).  Returns
    (out, saturation count, per-sample saturation flags).
    """
    if use_ext:
        out = np.empty_like(y)
        flags = np.zeros(y.shape[0], dtype=bool)       # written through an int8 view
        gen = rng.bit_generator if (noise is None and rng is not None) else None
        row_std, elem_std = (noise_std, None) if noise_std.ndim == 1 else (None, noise_std)
        if row_std is None:
            row_std = np.zeros(y.shape[0])
        sat = _ext.adc_stage(y, row_std, elem_std, noise, gen, bound, delta, inv, out_scale,
                             out, flags.view(np.int8))
        return out, int(sat), flags
    t = y
    if noise is not None:
        t = t + noise
    elif rng is not None:
        std = noise_std[:, None] if noise_std.ndim == 1 else noise_std
        t = t + std * normals(rng, t.shape)
    sat_mask = (t >= bound) | (t <= -bound)
    t = np.clip(t, -bound, bound)
    if delta > 0:
        t = _round(t * inv) * delta
    return t * out_scale[:, None], int(np.count_nonzero(sat_mask)), sat_mask.any(axis=1)


def standard_normal(rng: np.random.Generator, shape, *, backend: str = "cython") -> np.ndarray:
    """N(0, 1) draws: our ziggurat kernel on ``rng``'s bit generator, or its NumPy twin
    (the same numbers)."""
    if check_backend(backend):
        flat = np.empty((1, int(np.prod(shape))), dtype=np.float64)
        _ext.standard_normal_fill(rng.bit_generator, flat)
        return flat.reshape(shape)
    return normals(rng, shape)
