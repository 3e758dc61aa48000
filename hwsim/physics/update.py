"""Public API of the pulsed update: ΔW = −η d xᵀ applied with device pulses (PHYSICS.md §2).

* :func:`pulsed_update` — a whole mini-batch, sample by sample, in ONE kernel call:
  stochastic bit trains (Gokmen & Vlasov 2016), deterministic mean counts, the ideal
  float update (oracle) or the NeuroSim-style serial row write.
* :func:`apply_pulses` — explicit signed pulse counts per device (Tiki-Taka transfers,
  mixed-precision writes).
* :func:`serial_write` — row-by-row write of a target change, n = round(ΔW/ε).

``backend="cython"`` runs ``hwsim._ext.pulsed_update``; ``backend="numpy"`` runs the
oracle of :mod:`hwsim.physics.update_oracle`.  Both consume the caller's Generator in
the same way and give bit-identical results.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np

from hwsim.errors import BackendError
from hwsim.physics import device_models as dm
from hwsim.physics import update_oracle as oracle
from hwsim.physics.counter_rng import NORMAL_NODES, NORMAL_SLOPES, draw_key
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.pulse_trains import plan_mean_count, plan_stochastic_trains

#: (node, slope) pairs interleaved for the kernel (same numbers as the oracle's tables)
_NORMAL_TABLE = np.ascontiguousarray(np.stack([NORMAL_NODES, NORMAL_SLOPES], axis=1).ravel())
BACKENDS = ("cython", "numpy")
_STRATEGIES = {"auto": 0, "pairs": 1, "slots": 2}


def _frozen(a, dtype):
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


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
    max_pulses_per_row: np.ndarray = field(default_factory=lambda: _frozen([], np.int64))

    @property
    def pulse_slots(self) -> int:
        """Time slots of the parallel trains (Σ BL over samples)."""
        return int(self.bl_used.sum())


@dataclass(frozen=True, eq=False)
class SerialWriteResult:
    pulses: int                        # device pulses applied
    row_steps: int                     # rows with at least one pulse
    max_pulses_per_row: np.ndarray     # (M,) longest |n| in each row (row-step length)


def _kernel():
    try:
        kernel = importlib.import_module("hwsim._ext.pulsed_update")
    except ImportError as exc:
        raise BackendError("compiled kernel hwsim._ext.pulsed_update is missing; "
                           "rebuild with `pip install .`") from exc
    return kernel


def _check_common(array, rng, backend):
    if not isinstance(array, DeviceArray):
        raise ValueError(f"array must be a DeviceArray, got {type(array).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


def _as_batch(v, name, width, what):
    a = np.asarray(v)
    if a.dtype.kind not in "fiu" or a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f"{name} must be a real array of shape (batch, {width}) ({what}), "
                         f"got shape {a.shape} dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(a, dtype=np.float64)


def _noise(array):
    c = array.cfg
    return (float(c.dw_min_std), float(c.dw_min_std_add), float(c.dw_min_std_slope))


def _lumped(array, threshold) -> bool:
    c = array.cfg
    return array.model_code == dm.CONSTANT and c.dw_min_std <= threshold and \
        c.dw_min_std_slope == 0.0


def _touched(array):
    if array.cfg.write_noise_std > 0:
        return np.zeros(array.shape, np.uint8)
    return None


def _device_args(array, lumped, touched):
    noise = _noise(array)
    scalars = np.concatenate([noise, array.scalars]).astype(np.float64)
    counter = array.pulse_count if array.pulse_count is not None else np.zeros((0, 0), np.int64)
    tch = touched if touched is not None else np.zeros((0, 0), np.uint8)
    return (array.w, array.dw_up, array.dw_down, array.b_min, array.b_max, array.p_up,
            array.p_down, scalars, array.nodes_up, array.nodes_down, _NORMAL_TABLE,
            counter, tch, int(array.model_code), int(lumped))


def pulsed_update(array: DeviceArray, x, d, lr: float, cfg, rng: np.random.Generator,
                  backend: str = "cython", *, strategy: str = "auto") -> UpdateStats:
    """Apply ΔW = −lr·Σ_b d_b x_bᵀ to ``array`` sample by sample (x: (B, N), d: (B, M)).

    ``cfg`` is an :class:`hwsim.config.devices.UpdateConfig`.  ``strategy`` picks the
    kernel's loop order (``auto``/``pairs``/``slots``); results do not depend on it.
    """
    _check_common(array, rng, backend)
    m, n = array.shape
    x = _as_batch(x, "x", n, "inputs, one column per array column")
    d = _as_batch(d, "d", m, "errors, one per array row")
    if x.shape[0] != d.shape[0]:
        raise ValueError(f"x and d must have the same batch size, got {x.shape[0]} and {d.shape[0]}")
    lr = float(lr)
    if not np.isfinite(lr) or lr < 0:
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
    args = _device_args(array, lumped, touched)
    if cfg.pulse_type == "mean_count":
        plan = plan_mean_count(x, d, lr, array.granularity, cfg)
        key_n = draw_key(rng)
        if backend == "cython":
            per = np.zeros(nb, np.int64)
            _kernel().mean_count_update(*args, plan.row_amp, plan.col_amp, plan.sign_rows,
                                        plan.sign_cols, int(cfg.bl_max), key_n, per)
        else:
            per = oracle.mean_count_update(array, plan, int(cfg.bl_max), key_n, _noise(array),
                                           lumped, touched)
        stats = UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, int(per.sum()),
                            _frozen(per, np.int64), _frozen(plan.bl, np.int32),
                            int(plan.clipped.sum()), int(plan.row_slots.sum()),
                            int(plan.col_slots.sum()),
                            _frozen(np.count_nonzero(plan.row_amp, axis=1), np.int64),
                            _frozen(np.count_nonzero(plan.col_amp, axis=1), np.int64))
    else:
        plan = plan_stochastic_trains(x, d, lr, array.granularity, cfg)
        keys = (draw_key(rng), draw_key(rng), draw_key(rng))
        if backend == "cython":
            st = np.zeros((nb, 5), np.int64)
            _kernel().stochastic_update(*args, plan.thr_rows, plan.thr_cols, plan.sign_rows,
                                        plan.sign_cols, plan.bl, *keys, _STRATEGIES[strategy], st)
        else:
            st = oracle.stochastic_update(array, plan, keys, _noise(array), lumped, touched)
        stats = UpdateStats(cfg.pulse_type, cfg.scheme, nb, m, n, int(st[:, 0].sum()),
                            _frozen(st[:, 0], np.int64), _frozen(plan.bl, np.int32),
                            int(plan.clipped.sum()), int(st[:, 1].sum()), int(st[:, 2].sum()),
                            _frozen(st[:, 3], np.int64), _frozen(st[:, 4], np.int64))
    if touched is not None:
        array.redraw_write_noise(touched.astype(bool), rng)
    return stats


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


def apply_pulses(array: DeviceArray, n, rng: np.random.Generator, backend: str = "cython", *,
                 lumped_noise_threshold: float = 0.5) -> int:
    """|n_ij| deterministic pulses on each device (up where n_ij > 0); returns the count.

    Used for Tiki-Taka transfer writes and mixed-precision writes.  Pulse k of device
    (i, j) uses the noise counter (i·N + j)·2³² + k.
    """
    _check_common(array, rng, backend)
    counts = np.asarray(n)
    if counts.shape != array.shape or counts.dtype.kind not in "iu":
        raise ValueError(f"pulse counts must be an integer array of shape {array.shape}, "
                         f"got shape {counts.shape} dtype {counts.dtype}")
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    lumped = _lumped(array, lumped_noise_threshold)
    touched = _touched(array)
    key_n = draw_key(rng)
    if backend == "cython":
        total = int(_kernel().count_update(*_device_args(array, lumped, touched), counts, key_n))
    else:
        total = oracle.count_update(array, counts, key_n, _noise(array), lumped, touched)
    if touched is not None:
        array.redraw_write_noise(touched.astype(bool), rng)
    return total


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
