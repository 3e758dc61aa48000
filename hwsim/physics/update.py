"""Public API of the pulsed update: ΔW = −η d xᵀ applied with device pulses (PHYSICS.md §2).

* :func:`pulsed_update` — a whole mini-batch, sample by sample, in ONE kernel call:
  stochastic bit trains (Gokmen & Vlasov 2016), deterministic mean counts, the ideal
  float update (oracle) or the NeuroSim-style serial row write.
* :func:`apply_pulses` — explicit signed pulse counts per device (Tiki-Taka transfers,
  mixed-precision writes).
* :func:`serial_write` — row-by-row write of a target change, n = round(ΔW/ε).

``backend="cython"`` plans the trains with ``hwsim._ext.pulse_plan`` (one pass over x
and d, NaN/inf checks included) and runs ``hwsim._ext.pulsed_update`` (float64 device
state) or ``hwsim._ext.pulsed_update32`` (float32; the array's ``precision``);
``backend="numpy"`` runs the NumPy plans of :mod:`hwsim.physics.pulse_trains` and the
oracle of :mod:`hwsim.physics.update_oracle`.  Both consume the caller's Generator in
the same way and give bit-identical results.
"""
from __future__ import annotations

import importlib
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from hwsim.errors import BackendError, NonFiniteError
from hwsim.physics import device_models as dm
from hwsim.physics import update_oracle as oracle
from hwsim.physics.counter_rng import NORMAL_NODES, NORMAL_SLOPES, draw_key
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.pulse_trains import plan_mean_count, plan_stochastic_trains

#: (node, slope) pairs interleaved for the kernel (same numbers as the oracle's tables)
_NORMAL_TABLE = np.ascontiguousarray(np.stack([NORMAL_NODES, NORMAL_SLOPES], axis=1).ravel())
BACKENDS = ("cython", "numpy")
_STRATEGIES = {"auto": 0, "pairs": 1, "slots": 2}
#: bit generators whose raw output is the next_uint64 word that draw_key returns
_RAW64 = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)
_NO_COUNTER = np.zeros((0, 0), np.int64)     # zero-size: never written by the kernels
_NO_TOUCHED = np.zeros((0, 0), np.uint8)
_ALL_COLS = np.zeros(0, np.int64)


def _frozen(a, dtype):
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


def _readonly(*arrays):
    """Mark freshly built arrays read-only (no copy); returns the first."""
    for a in arrays:
        a.flags.writeable = False
    return arrays[0]


_EMPTY_I64 = _frozen([], np.int64)


@dataclass(frozen=True, eq=False)
class UpdateStats:
    """What the energy and latency models need from one pulsed update.

    Arrays are read-only.  ``eq=False``: compare fields, not objects."""
    pulse_type: str
    scheme: str
    samples: int
    rows: int
    cols: int
    device_pulses: int                 # pulses that hit a device (Σ coincidences)
    pulses_per_sample: np.ndarray      # (B,) int64
    bl_used: np.ndarray                # (B,) int32 pulse slots used per sample
    clipped_samples: int               # samples with k > BL_max
    row_pulse_slots: int               # Σ (row line, slot) pairs driven
    col_pulse_slots: int               # Σ (column line, slot) pairs driven
    active_rows: np.ndarray            # (B,) rows with at least one pulse slot
    active_cols: np.ndarray            # (B,)
    row_steps: int = 0                 # serial_row: rows written one after another
    max_pulses_per_row: np.ndarray = field(default_factory=lambda: _EMPTY_I64)

    @property
    def pulse_slots(self) -> int:
        """Time slots of the parallel trains (Σ BL over samples)."""
        return int(self.bl_used.sum())


@dataclass(frozen=True, eq=False)
class SerialWriteResult:
    pulses: int                        # device pulses applied
    row_steps: int                     # rows with at least one pulse
    max_pulses_per_row: np.ndarray     # (M,) longest |n| in each row (row-step length)


def _compiled(name):
    kernel = sys.modules.get(name)       # fast path; a None entry means "blocked"
    if kernel is not None:
        return kernel
    try:
        kernel = importlib.import_module(name)
    except ImportError as exc:
        raise BackendError(f"compiled kernel {name} is missing; "
                           "rebuild with `pip install .`") from exc
    return kernel


#: the compiled kernel module of each state precision (the same code, pulsed_update.pxi)
_KERNEL_OF = {np.dtype(np.float64): "hwsim._ext.pulsed_update",
              np.dtype(np.float32): "hwsim._ext.pulsed_update32"}


def _kernel(array=None):
    """The kernel module for ``array``'s precision (float64 without an array)."""
    name = _KERNEL_OF[array.w.dtype] if array is not None else _KERNEL_OF[np.dtype(np.float64)]
    return _compiled(name)


def simd(enable=None) -> bool:
    """The AVX-512 switch of the compiled kernels of both precisions (``simd(False)``
    forces the scalar loops; benchmarks compare both); returns the setting."""
    on = [_compiled(name).simd(enable) for name in _KERNEL_OF.values()]
    return all(on)


def _plan_kernel():
    return _compiled("hwsim._ext.pulse_plan")


def _keys(rng, count):
    """``count`` stream keys, the same words (and Generator state) as ``count`` calls of
    draw_key: 64-bit bit generators hand out next_uint64 words through random_raw;
    others (MT19937 has 32-bit raw words) go through draw_key."""
    if type(rng.bit_generator) in _RAW64:
        return rng.bit_generator.random_raw(count).tolist()
    return [int(draw_key(rng)) for _ in range(count)]


def _check_common(array, rng, backend):
    if not isinstance(array, DeviceArray):
        raise ValueError(f"array must be a DeviceArray, got {type(array).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


def _as_batch(v, name, width, what, check_finite=True):
    """(B, width) float64 C-order view of v (a copy only when needed); NaN/inf checked
    here unless the compiled plan checks them in its own pass."""
    a = v if type(v) is np.ndarray else np.asarray(v)
    if a.dtype.kind not in "fiu" or a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f"{name} must be a real array of shape (batch, {width}) ({what}), "
                         f"got shape {a.shape} dtype {a.dtype}")
    if check_finite and not np.all(np.isfinite(a)):
        raise NonFiniteError(f"{name} contains NaN or inf")
    if a.dtype != np.float64 or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=np.float64)
    return a


def _noise(array):
    c = array.cfg
    return (float(c.dw_min_std), float(c.dw_min_std_add), float(c.dw_min_std_slope))


def _lumped(array, threshold) -> bool:
    c = array.cfg
    return c.lumpable and c.dw_min_std <= threshold and \
        c.dw_min_std_slope == 0.0


def _touched(array):
    if array.cfg.write_noise_std > 0:
        return np.zeros(array.shape, np.uint8)
    return None


def _device_args(array, lumped, touched):
    scalars = np.concatenate((_noise(array), array.scalars), dtype=array.w.dtype)
    counter = array.pulse_count if array.pulse_count is not None else _NO_COUNTER
    tch = touched if touched is not None else _NO_TOUCHED
    return (array.w, array.dw_up, array.dw_down, array.b_min, array.b_max, array.p_up,
            array.p_down, scalars, array.nodes_up, array.nodes_down, _NORMAL_TABLE,
            counter, tch, dm.kernel_code(array), int(lumped))


def pulsed_update(array: DeviceArray, x, d, lr: float, cfg, rng: np.random.Generator,
                  backend: str = "cython", *, strategy: str = "auto") -> UpdateStats:
    """Apply ΔW = −lr·Σ_b d_b x_bᵀ to ``array`` sample by sample (x: (B, N), d: (B, M)).

    ``cfg`` is an :class:`hwsim.config.update.UpdateConfig`.  ``strategy`` picks the
    kernel's loop order (``auto``/``pairs``/``slots``); results do not depend on it.
    """
    _check_common(array, rng, backend)
    m, n = array.shape
    # the compiled plan checks x and d for NaN/inf in its own pass over them
    planned = backend == "cython" and cfg.scheme != "serial_row" and \
        cfg.pulse_type != "none_pulsed"
    x = _as_batch(x, "x", n, "inputs, one column per array column", not planned)
    d = _as_batch(d, "d", m, "errors, one per array row", not planned)
    if x.shape[0] != d.shape[0]:
        raise ValueError(f"x and d must have the same batch size, got {x.shape[0]} and {d.shape[0]}")
    lr = float(lr)
    if not math.isfinite(lr) or lr < 0:
        raise ValueError(f"learning rate must be finite and ≥ 0, got {lr}")
    if not 1 <= int(cfg.bl_max) <= 64:
        raise ValueError(f"bl_max must be within 1..64, got {cfg.bl_max}")
    if strategy not in _STRATEGIES:
        raise ValueError(f"strategy must be one of {tuple(_STRATEGIES)}, got {strategy!r}")
    nb = x.shape[0]
    if cfg.scheme == "serial_row":
        res = serial_write(array, -lr * (d.T @ x), rng, max_pulses=cfg.serial_max_pulses,
                           backend=backend, lumped_noise_threshold=cfg.lumped_noise_threshold)
        zeros = _frozen(np.zeros(nb), np.int64)
        return UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, res.pulses, zeros,
                           _frozen(np.zeros(nb), np.int32), 0, 0, 0, zeros, zeros,
                           res.row_steps, res.max_pulses_per_row)
    if cfg.pulse_type == "none_pulsed":
        return _ideal_update(array, x, d, lr, cfg, rng)
    lumped = _lumped(array, cfg.lumped_noise_threshold)
    touched = _touched(array)
    if planned:
        stats = _compiled_update(array, x, d, lr, cfg, rng, lumped, touched,
                                 _STRATEGIES[strategy])
    elif cfg.pulse_type == "mean_count":
        plan = plan_mean_count(x, d, lr, array.granularity, cfg)
        per = oracle.mean_count_update(array, plan, int(cfg.bl_max), draw_key(rng),
                                       _noise(array), lumped, touched)
        stats = UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, int(per.sum()),
                            _frozen(per, np.int64), _frozen(plan.bl, np.int32),
                            int(plan.clipped.sum()), int(plan.row_slots.sum()),
                            int(plan.col_slots.sum()),
                            _frozen(np.count_nonzero(plan.row_amp, axis=1), np.int64),
                            _frozen(np.count_nonzero(plan.col_amp, axis=1), np.int64))
    else:
        plan = plan_stochastic_trains(x, d, lr, array.granularity, cfg)
        keys = (draw_key(rng), draw_key(rng), draw_key(rng))
        st = oracle.stochastic_update(array, plan, keys, _noise(array), lumped, touched)
        stats = UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, int(st[:, 0].sum()),
                            _frozen(st[:, 0], np.int64), _frozen(plan.bl, np.int32),
                            int(plan.clipped.sum()), int(st[:, 1].sum()), int(st[:, 2].sum()),
                            _frozen(st[:, 3], np.int64), _frozen(st[:, 4], np.int64))
    if touched is not None:
        array.redraw_write_noise(touched.astype(bool), rng)
    return stats


_PLAN_ERRORS = {-1: "x contains NaN or inf", -2: "d contains NaN or inf",
                -3: "pulse probabilities must be finite and within [0, 1]"}


def _compiled_update(array, x, d, lr, cfg, rng, lumped, touched, strategy) -> UpdateStats:
    """Plan and kernel of the parallel update: the same trains, keys and results as the
    oracle path.  Stochastic trains: plan and pulses in one compiled call
    (``pulsed_update.planned_update``; the trains never leave C); mean counts: the plan
    of hwsim._ext.pulse_plan, then the kernel."""
    kernel = _kernel(array)
    (nb, n), m = x.shape, d.shape[1]
    bl_max, eps = int(cfg.bl_max), float(array.granularity)
    args = _device_args(array, lumped, touched)
    if cfg.pulse_type == "mean_count":
        plan = _plan_kernel()
        sign_rows, sign_cols = np.empty((nb, m), np.int8), np.empty((nb, n), np.int8)
        bl = np.empty(nb, np.int32)
        row_amp, col_amp = np.empty((nb, m)), np.empty((nb, n))
        act = np.empty((2, nb), np.int64)
        totals = np.empty(3, np.int64)
        status = plan.mean_count_plan(x, d, lr, eps, bl_max, cfg.update_management, row_amp,
                                      col_amp, sign_rows, sign_cols, bl, act[0], act[1], totals)
        if status < 0:
            raise ValueError(_PLAN_ERRORS[status])
        per = np.zeros(nb, np.int64)
        kernel.mean_count_update(*args, row_amp, col_amp, sign_rows, sign_cols, bl_max,
                                 _keys(rng, 1)[0], per)
        clipped, row_slots, col_slots = totals.tolist()
        return UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, int(per.sum()),
                           _readonly(per), _readonly(bl), clipped, row_slots, col_slots,
                           _readonly(act)[0], act[1])
    keys = _keys(rng, 3)      # (the plan draws nothing: the same words as after it)
    clipped, pulses, row_slots, col_slots, st, bl = kernel.planned_update(
        *args, x, d, lr, eps, bl_max, cfg.fixed_bl, cfg.update_management, *keys, strategy)
    if clipped < 0:
        raise ValueError(_PLAN_ERRORS[clipped])
    _readonly(st, bl)       # pulses, row/col slots, active rows/cols per sample
    return UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, pulses, st[0], bl, clipped,
                       row_slots, col_slots, st[3], st[4])


def _ideal_update(array, x, d, lr, cfg, rng) -> UpdateStats:
    """The float update −lr·d_b x_bᵀ per sample, clipped to the device bounds (oracle)."""
    nb, (m, n) = x.shape[0], array.shape
    touched = np.zeros(array.shape, bool)
    for b in range(nb):
        delta = np.outer(d[b], x[b])
        touched |= delta != 0
        np.copyto(array.w, np.clip(array.w - lr * delta, array.b_min, array.b_max))
    if lr > 0:
        array.redraw_write_noise(touched, rng)
    z = _frozen(np.zeros(nb), np.int64)
    return UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, 0, z, _frozen(np.zeros(nb), np.int32),
                       0, 0, 0, z, z)


def _column_indices(cols, n_cols):
    c = np.asarray(cols)
    if c.ndim != 1 or c.dtype.kind not in "iu":
        raise ValueError(f"cols must be a 1-D integer array, got shape {c.shape} dtype {c.dtype}")
    c = np.ascontiguousarray(c, dtype=np.int64)
    if c.size and (c.min() < -n_cols or c.max() >= n_cols):
        raise ValueError(f"cols must be within [{-n_cols}, {n_cols}), got {c.min()}..{c.max()}")
    c = np.where(c < 0, c + n_cols, c)
    if len(set(c.tolist())) != c.size:             # (np.unique costs ~0.1 ms here)
        raise ValueError("cols must be distinct column indices")
    return c


def apply_pulses(array: DeviceArray, n, rng: np.random.Generator, backend: str = "cython", *,
                 cols=None, lumped_noise_threshold: float = 0.5) -> int:
    """|n_ij| deterministic pulses on each device (up where n_ij > 0); returns the count.

    Used for Tiki-Taka transfer writes and mixed-precision writes.  Pulse k of device
    (i, j) uses the noise counter (i·N + j)·2³² + k.  With ``cols`` (k distinct column
    indices) ``n`` is (M, k) and holds those columns only: the same write (weights,
    counters, write noise, Generator use) as the (M, N) matrix that is zero elsewhere,
    without building or scanning it.
    """
    _check_common(array, rng, backend)
    counts = np.asarray(n)
    shape = array.shape
    if cols is not None:
        cols = _column_indices(cols, array.cols)
        shape = (array.rows, cols.size)
    if counts.shape != shape or counts.dtype.kind not in "iu":
        raise ValueError(f"pulse counts must be an integer array of shape {shape}, "
                         f"got shape {counts.shape} dtype {counts.dtype}")
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    lumped = _lumped(array, lumped_noise_threshold)
    touched = _touched(array) if cols is None else None
    if backend == "cython":
        key_n = _keys(rng, 1)[0]                      # = draw_key(rng), without its overhead
        total = int(_kernel(array).count_update(*_device_args(array, lumped, touched), counts, key_n,
                                           _ALL_COLS if cols is None else cols))
    else:
        key_n = draw_key(rng)
        total = oracle.count_update(array, counts, key_n, _noise(array), lumped, touched, cols)
    if touched is not None:
        array.redraw_write_noise(touched.astype(bool), rng)
    elif cols is not None and array.cfg.write_noise_std > 0:
        _redraw_columns(array, counts, cols, rng)
    return total


def apply_pulses_chunks(array: DeviceArray, counts, cols, bounds, rng: np.random.Generator,
                        backend: str = "cython", *, lumped_noise_threshold: float = 0.5) -> list:
    """:func:`apply_pulses` of ``counts[:, b0:b1]`` on the columns ``cols[b0:b1]`` for
    every ``(b0, b1)`` of ``bounds``, in that order: the same writes and the same
    Generator use, so the same bits.  Without write noise nothing but the stream keys
    is drawn between the writes, so the keys are drawn at once (a 64-bit bit generator
    hands out the same words in one call as in many) and the compiled kernel is called
    per chunk without re-validating the device; otherwise :func:`apply_pulses` per
    chunk.  ``counts`` (M, len(cols)) int64.  Returns each chunk's pulses."""
    _check_common(array, rng, backend)
    counts = np.asarray(counts)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if counts.shape != (array.rows, cols.size) or counts.dtype != np.int64:
        raise ValueError(f"pulse counts must be int64 of shape ({array.rows}, {cols.size})")
    if backend != "cython" or array.cfg.write_noise_std > 0 or \
            type(rng.bit_generator) not in _RAW64:
        return [apply_pulses(array, counts[:, b0:b1], rng, backend, cols=cols[b0:b1],
                             lumped_noise_threshold=lumped_noise_threshold)
                for b0, b1 in bounds]
    if cols.size and (cols.min() < 0 or cols.max() >= array.cols):
        raise ValueError(f"cols must be within [0, {array.cols})")
    for b0, b1 in bounds:
        if np.bincount(cols[b0:b1], minlength=1).max(initial=0) > 1:
            raise ValueError("cols of one chunk must be distinct column indices")
    args = _device_args(array, _lumped(array, lumped_noise_threshold), None)
    kernel = _kernel(array).count_update
    return [int(kernel(*args, np.ascontiguousarray(counts[:, b0:b1]), key, cols[b0:b1]))
            for (b0, b1), key in zip(bounds, _keys(rng, len(bounds)))]


def _redraw_columns(array, counts, cols, rng) -> None:
    """DeviceArray.redraw_write_noise on the devices with a non-zero count in ``cols``:
    new write noise write_noise_std·dw_min·ξ, drawn in flat (row-major) device order."""
    r, c = np.nonzero(counts)
    array.redraw_write_noise_at(np.sort(r * array.cols + cols[c]), rng)


def serial_write(array: DeviceArray, target_delta, rng: np.random.Generator, *,
                 max_pulses: int = 31, backend: str = "cython",
                 lumped_noise_threshold: float = 0.5) -> SerialWriteResult:
    """NeuroSim-style serial write: row by row, n_ij = sign(Δ)·⌊|Δ_ij|/ε + ½⌋ (|n| ≤
    max_pulses) pulses.  Timing = row_steps × max_pulses_per_row × pulse width."""
    _check_common(array, rng, backend)
    t = np.asarray(target_delta, dtype=np.float64)
    if t.shape != array.shape or not np.all(np.isfinite(t)):
        raise ValueError(f"target_delta must be finite with shape {array.shape}, got {t.shape}")
    if int(max_pulses) < 1:
        raise ValueError(f"max_pulses must be ≥ 1, got {max_pulses}")
    mag = np.minimum(np.floor(np.abs(t) / array.granularity + 0.5), int(max_pulses))
    counts = (np.sign(t) * mag).astype(np.int64)
    pulses = apply_pulses(array, counts, rng, backend, lumped_noise_threshold=lumped_noise_threshold)
    per_row = np.abs(counts).max(axis=1)
    return SerialWriteResult(pulses, int(np.count_nonzero(per_row)), _frozen(per_row, np.int64))
