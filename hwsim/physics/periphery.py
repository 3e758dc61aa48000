"""Crossbar MVM through the periphery: DAC → array → ADC (PHYSICS.md §3).

For every sample b of a batch (forward: ``y = W x``; transposed: ``y = Wᵀ d``)::

    s_b   = inp_bound / max_j |x_bj|            (noise management abs_max; else 1)
    v_bj  = Q_in(x_bj · s_b) + σ_in ξ           (DAC clip ±inp_bound, inp_res_bits; input noise)
    u_bi  = Σ_j W_ij v_bj  + σ_w-term           (BLAS; W_eff with IR drop; weight read noise)
    y_bi  = Q_out(u_bi + σ_out ξ) / s_b         (ADC clip ±out_bound, out_res_bits; rescale)

(Gokmen & Vlasov, Front. Neurosci. 10:333, 2016; Rasch et al., Nat. Commun. 15:7133,
2024.)  Bound management ``iterative``: a sample with a saturated ADC output
(|u + noise| ≥ out_bound) is read again with s_b halved, up to ``max_bm_repeats``
times (and within aihwkit's factor and resolution limits, ``MVMConfig.bm_repeat_limit``);
every repeat is real DAC/ADC/array work and is counted in :class:`MVMStats`.

Weight read noise, fresh per device and per MVM, enters through its exact output
distribution (no M×N draw): ``additive_constant`` w + σξ gives
``Σ_j σ ξ_ij v_j ~ N(0, σ²‖v‖²)``; ``relative`` w + σ|w|ξ gives
``N(0, σ² Σ_j w_ij² v_j²)``.  Both are merged with the output noise into one Gaussian
of variance ``σ_out² + σ_w-term²`` per output (the IR-drop attenuation of the weight
noise itself, O(r·σ_w), is neglected).

Weight scaling ω (optional): the array holds ``W·ω/max|W|``; the output is multiplied
by ``max|W|/ω`` digitally.  ``w_eff`` (from :class:`~hwsim.physics.ir_drop.IRDropCache`)
must describe the array as programmed (after ω scaling) and for the same direction.
When ``cfg.ir_drop > 0`` and no ``w_eff`` is given it is computed here (slow: use the cache).

Energy statistic ``sum_gv2 = Σ_passes Σ_b Σ_ij |w_ij| v_bj²`` is in normalized units
(weights in conductance-range units, v in full-scale read-voltage units); the energy
layer multiplies it by ``g_max · V_read² · t_int`` to get joules of array read energy.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwsim.errors import NonFiniteError
from hwsim.physics import quantize as qz
from hwsim.physics.ir_drop import effective_matrix


class MVMStats(NamedTuple):
    """Hardware work of one batched MVM (all passes, bound-management repeats included).
    Immutable; ``a + b`` adds field by field (a named tuple: built in C, once per read)."""
    dac_conversions: int = 0      # DAC conversions (inputs × samples × passes)
    adc_conversions: int = 0      # ADC conversions (outputs × samples × passes)
    saturations: int = 0          # ADC conversions that clipped (|u| ≥ out_bound)
    bm_repeats: int = 0           # sample re-reads by bound management
    sum_gv2: float = 0.0          # Σ |w_ij| v_j², normalized (× g_max V_read² t_int = J)
    active_inputs: int = 0        # nonzero DAC codes (driven lines) over all passes

    def __add__(self, other: "MVMStats") -> "MVMStats":
        if not isinstance(other, MVMStats):
            return NotImplemented
        return MVMStats(*(a + b for a, b in zip(self, other)))


def _finite(arr: np.ndarray, name: str) -> None:
    # a finite sum proves every element finite (NaN/inf propagate); only then is the
    # full elementwise test skipped
    if not np.isfinite(arr.sum()) and not np.all(np.isfinite(arr)):
        raise NonFiniteError(f"{name} contains NaN or inf")


def _matrix(a, name: str, check_finite: bool = True) -> np.ndarray:
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (M, N), got shape {arr.shape}")
    if check_finite:
        _finite(arr, name)
    return arr


def _inputs(x, k: int, transposed: bool, check_finite: bool = True) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    what = "d (B, M) for a transposed read" if transposed else "x (B, N) for a forward read"
    if arr.ndim != 2 or arr.shape[1] != k:
        raise ValueError(f"inputs must be {what} with {k} columns, got shape {np.shape(x)}")
    arr = np.ascontiguousarray(arr)
    if check_finite:
        _finite(arr, "inputs")
    return arr


def _product(v: np.ndarray, w: np.ndarray, transposed: bool) -> np.ndarray:
    return v @ w if transposed else v @ w.T


_STEPS: dict = {}


def _steps(cfg) -> tuple:
    """(in_delta, in_inv, out_delta, out_inv) of a periphery config, computed once."""
    hit = _STEPS.get(id(cfg))
    if hit is None or hit[0] is not cfg:      # (the config is kept: its id stays unique)
        if len(_STEPS) > 256:                 # bounded: sweeps make many configs
            _STEPS.clear()
        i_d = qz.step_size(cfg.inp_bound, cfg.inp_res_bits)
        o_d = qz.step_size(cfg.out_bound, cfg.out_res_bits)
        hit = _STEPS[id(cfg)] = (cfg, (i_d, 1.0 / i_d if i_d > 0 else 0.0,
                                       o_d, 1.0 / o_d if o_d > 0 else 0.0))
    return hit[1]


class _Reader:
    """One configured read direction; :meth:`read` is one pass over a sub-batch."""

    def __init__(self, w_prog, w_read, cfg, rng, transposed, use_ext):
        self.cfg, self.rng, self.transposed, self.use_ext = cfg, rng, transposed, use_ext
        self.w_prog, self.w_read = w_prog, w_read
        self.in_delta, self.in_inv, self.out_delta, self.out_inv = _steps(cfg)
        k = w_prog.shape[0] if transposed else w_prog.shape[1]
        self.sq_sums = np.zeros(k)
        self.w_sq = w_prog * w_prog if (cfg.w_noise > 0 and cfg.w_noise_type == "relative") else None

    def _noise_std(self, v: np.ndarray) -> np.ndarray:
        """Per-sample (B,) or per-output (B, P) std of the Gaussian added before the ADC."""
        cfg = self.cfg
        if cfg.w_noise <= 0:
            return np.full(v.shape[0], cfg.out_noise)
        if self.w_sq is None:                       # additive_constant: σ²‖v‖²
            var = cfg.w_noise ** 2 * np.einsum("ij,ij->i", v, v)
        else:                                       # relative: σ² Σ_j w_ij² v_j²
            var = cfg.w_noise ** 2 * _product(v * v, self.w_sq, self.transposed)
        return np.sqrt(cfg.out_noise ** 2 + var)

    def read(self, x, in_scale, out_scale):
        cfg, rng = self.cfg, self.rng
        v, active = qz.dac_stage(x, in_scale, cfg.inp_bound, self.in_delta, self.in_inv,
                                 cfg.inp_noise, None, rng if cfg.inp_noise > 0 else None,
                                 self.sq_sums, self.use_ext)
        return self._convert(v, out_scale, active)

    def first_read(self, x, out_gain):
        """The first pass: input check, noise management and DAC in one compiled call
        (:func:`hwsim.physics.quantize.dac_front`), then product and ADC — all three in
        one call (:func:`hwsim.physics.quantize.read_pass`) when there is no weight read
        noise.  Returns (y, saturations, flags, active, in_scale, out_scale)."""
        cfg, rng = self.cfg, self.rng
        abs_max = cfg.noise_management == "abs_max"
        if cfg.w_noise <= 0:        # the whole pass in one compiled call, same operations
            res = qz.read_pass(x, self.w_read, self.transposed, abs_max, cfg.inp_bound,
                               out_gain, self.in_delta, self.in_inv, cfg.inp_noise,
                               rng if cfg.inp_noise > 0 else None, cfg.out_noise,
                               rng if cfg.out_noise > 0 else None, cfg.out_bound,
                               self.out_delta, self.out_inv, self.sq_sums)
            if res is None:
                raise NonFiniteError("inputs contains NaN or inf")
            return res
        v, active, in_scale, out_scale = qz.dac_front(
            x, abs_max, cfg.inp_bound, out_gain, self.in_delta, self.in_inv, cfg.inp_noise,
            rng if cfg.inp_noise > 0 else None, self.sq_sums)
        if active < 0:
            raise NonFiniteError("inputs contains NaN or inf")
        return self._convert(v, out_scale, active) + (in_scale, out_scale)

    def _convert(self, v, out_scale, active):
        cfg, rng = self.cfg, self.rng
        u = _product(v, self.w_read, self.transposed)
        noisy = cfg.out_noise > 0 or cfg.w_noise > 0
        std = self._noise_std(v)
        y, sat, flags = qz.adc_stage(u, std, None, rng if noisy else None, cfg.out_bound,
                                     self.out_delta, self.out_inv, out_scale, self.use_ext)
        return y, sat, flags, active


def abs_line_sums(w, transposed: bool = False, backend: str = "cython") -> np.ndarray:
    """Σ_i |w_ij| per input line j (forward) or Σ_j |w_ij| per row (transposed): the
    conductance each driven line sees, for the read energy; validates w finite."""
    w = _matrix(w, "w", check_finite=False)
    sums = qz.abs_line_sums(w, transposed, qz.check_backend(backend))
    _finite(sums, "w")
    return sums


def abs_column_sums(w, cols, backend: str = "cython") -> np.ndarray:
    """:func:`abs_line_sums` (forward) at the columns ``cols`` only, bitwise its entries
    there (each column is summed on its own, rows in order): keeps cached line sums
    current after a write to a few columns; validates those columns finite."""
    w = _matrix(w, "w", check_finite=False)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if cols.ndim != 1 or (cols.size and (cols.min() < 0 or cols.max() >= w.shape[1])):
        raise ValueError(f"cols must be column indices within 0..{w.shape[1] - 1}, "
                         f"got {cols.tolist()}")
    sums = qz.abs_col_sums_at(w, cols, qz.check_backend(backend))
    _finite(sums, "w")
    return sums


def mvm(w, x, cfg, rng, *, transposed: bool = False, backend: str = "cython",
        w_eff=None, line_sums=None) -> tuple[np.ndarray, MVMStats]:
    """Batched MVM through the periphery of ``cfg`` (an ``MVMConfig``).

    ``w`` (M, N); ``x`` (B, N) forward → (B, M), or (B, M) with ``transposed`` →
    (B, N); a 1-D ``x`` is one sample.  ``rng`` (numpy Generator) supplies all noise.
    ``line_sums``: :func:`abs_line_sums` of ``w`` in this direction, when the caller
    keeps it while ``w`` is unchanged (it is O(M·N) per call otherwise).
    """
    use_ext = qz.check_backend(backend)
    w = _matrix(w, "w", check_finite=False)   # checked through its line sums below
    k, p = (w.shape[0], w.shape[1]) if transposed else (w.shape[1], w.shape[0])
    fused = use_ext and not cfg.is_perfect and cfg.noise_management in ("abs_max", "none")
    x = _inputs(x, k, transposed, check_finite=not fused)   # (fused: checked by dac_front)
    needs_rng = not cfg.is_perfect and (cfg.inp_noise > 0 or cfg.out_noise > 0 or cfg.w_noise > 0)
    if needs_rng and not isinstance(rng, np.random.Generator):
        raise ValueError(f"a numpy.random.Generator is required for a noisy MVM, got {rng!r}")
    n_b = x.shape[0]

    if line_sums is None:
        line_sums = abs_line_sums(w, transposed, backend)
    elif np.shape(line_sums) != (k,):
        raise ValueError(f"line_sums must have shape ({k},), got {np.shape(line_sums)}")
    w_prog, out_gain = w, 1.0
    if cfg.omega is not None:
        w_max = float(np.max(np.abs(w)))
        if w_max > 0:
            w_prog, out_gain = w * (cfg.omega / w_max), w_max / cfg.omega
            line_sums = line_sums * (cfg.omega / w_max)

    if fused:
        w_read = _read_matrix(w, w_prog, w_eff, cfg, transposed)
        reader = _Reader(w_prog, w_read, cfg, rng, transposed, use_ext)
        y, sat, flags, active, in_scale, out_scale = reader.first_read(x, out_gain)
        return _finish(reader, x, y, sat, flags, active, in_scale, out_scale, k, p, line_sums)
    if cfg.noise_management == "abs_max":
        x_max = qz.row_abs_max(x, use_ext)
        pos = x_max > 0
        in_scale = np.where(pos, cfg.inp_bound / np.where(pos, x_max, 1.0), 0.0)
        out_scale = x_max * (out_gain / cfg.inp_bound)
    else:
        in_scale = np.ones(n_b)
        out_scale = np.full(n_b, out_gain)

    if cfg.is_perfect:
        v = x * in_scale[:, None]
        stats = MVMStats(dac_conversions=n_b * k, adc_conversions=n_b * p,
                         sum_gv2=float(line_sums @ (v * v).sum(axis=0)),
                         active_inputs=int(np.count_nonzero(x)))
        return _product(x, w, transposed), stats

    w_read = _read_matrix(w, w_prog, w_eff, cfg, transposed)
    reader = _Reader(w_prog, w_read, cfg, rng, transposed, use_ext)
    y, sat, flags, active = reader.read(x, in_scale, out_scale)
    return _finish(reader, x, y, sat, flags, active, in_scale, out_scale, k, p, line_sums)


def _read_matrix(w, w_prog, w_eff, cfg, transposed):
    """The matrix the product multiplies: ``w_eff`` (IR drop, given), else computed
    here (slow: use the cache), else the programmed weights."""
    if w_eff is not None:
        w_read = _matrix(w_eff, "w_eff")
        if w_read.shape != w.shape:
            raise ValueError(f"w_eff must have the shape of w {w.shape}, got {w_read.shape}")
        return w_read
    if cfg.ir_drop > 0:
        return effective_matrix(w_prog, cfg.ir_drop, transposed=transposed)
    return w_prog


def _finish(reader, x, y, sat, flags, active, in_scale, out_scale, k, p, line_sums):
    """Bound management's repeats after the first pass, and the statistics."""
    cfg = reader.cfg
    n_b = x.shape[0]
    dac, adc, repeats = n_b * k, n_b * p, 0
    if cfg.bound_management == "iterative" and flags.any():
        idx = np.flatnonzero(flags)
        for _ in range(cfg.bm_repeat_limit()):
            if idx.size == 0:
                break
            in_scale[idx] *= 0.5
            out_scale[idx] *= 2.0
            y_sub, s_sub, f_sub, a_sub = reader.read(x[idx], in_scale[idx], out_scale[idx])
            y[idx] = y_sub
            sat += s_sub
            active += a_sub
            repeats += idx.size
            dac += idx.size * k
            adc += idx.size * p
            idx = idx[f_sub]
    stats = MVMStats(dac_conversions=dac, adc_conversions=adc, saturations=sat,
                     bm_repeats=repeats, sum_gv2=float(line_sums @ reader.sq_sums),
                     active_inputs=active)
    return y, stats
