"""hwsim's own device physics, as the fit package uses it — the ONE place it is called.

Pulse responses are made with the public entry points only: a device config from
:func:`hwsim.devices.load_device`, an array of devices
(:class:`hwsim.physics.device_array.DeviceArray`, one device per row) and
:func:`hwsim.physics.update.apply_pulses` (one ±1 pulse per device per call, exactly as
a Tiki-Taka transfer write applies them).  Step sizes, symmetry point and number of
states come from the same array and from :mod:`hwsim.physics.device_models`.
"""
from __future__ import annotations

import numpy as np

from hwsim.devices import DeviceConfig, derive, load_device
from hwsim.fit.pulse_data import PulseData
from hwsim.physics import device_models
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.update import apply_pulses

_DTOD = ("dw_min_dtod", "up_down_dtod", "w_max_dtod", "w_min_dtod", "linear_gamma_dtod",
         "pow_gamma_dtod", "lifetime_dtod", "diffusion_dtod")
_NOISE = ("dw_min_std", "dw_min_std_add", "dw_min_std_slope")


def load(ref, base_dir=None) -> DeviceConfig:
    """A device config from a preset name, a YAML path or a mapping."""
    return load_device(ref, base_dir=base_dir)


def nominal(cfg: DeviceConfig, noise: bool = False) -> DeviceConfig:
    """``cfg`` without device-to-device spreads (and without c2c noise unless ``noise``)."""
    changes = {k: 0.0 for k in _DTOD}
    if not noise:
        changes.update({k: 0.0 for k in _NOISE})
    return derive(cfg, **{k: v for k, v in changes.items() if hasattr(cfg, k)})


def pulse_schedule(cycles: int, n_up: int, n_down: int) -> np.ndarray:
    """Directions of one device's pulses: ``cycles`` × (n_up × +1, n_down × −1)."""
    one = np.concatenate((np.ones(n_up, np.int8), -np.ones(n_down, np.int8)))
    return np.tile(one, cycles)


def simulate(cfg: DeviceConfig, n_devices: int, cycles: int, n_up: int, n_down: int | None = None,
             seed: int = 0, file: str = "<simulated>", truth: bool = False):
    """Pulse responses of ``n_devices`` devices drawn from ``cfg``: one read before the
    first pulse (direction 0), then the value after every pulse of :func:`pulse_schedule`.

    With ``truth`` also the drawn per-device values (dict of (D,) arrays ``dw_up``,
    ``dw_down``, ``b_max``, ``b_min``, ``p_up``, ``p_down``), to test a fit against."""
    rng = np.random.default_rng(seed)
    arr = DeviceArray(cfg, (n_devices, 1), rng)
    sched = pulse_schedule(cycles, n_up, n_up if n_down is None else n_down)
    values = np.empty((len(sched) + 1, n_devices))
    values[0] = arr.w[:, 0]
    counts = np.empty((n_devices, 1), np.int64)
    for k, d in enumerate(sched, start=1):
        counts.fill(int(d))
        apply_pulses(arr, counts, rng)
        values[k] = arr.w[:, 0]
    n_rows = len(sched) + 1
    direction = np.concatenate(([0], sched)).astype(np.int8)
    data = PulseData(file=file, device_ids=np.arange(n_devices),
                     dev=np.repeat(np.arange(n_devices), n_rows),
                     pulse=np.tile(np.arange(n_rows), n_devices),
                     direction=np.tile(direction, n_devices), value=values.T.ravel(),
                     line=np.arange(n_devices * n_rows) + 2)
    if not truth:
        return data
    return data, {k: getattr(arr, k)[:, 0].copy()
                  for k in ("dw_up", "dw_down", "b_max", "b_min", "p_up", "p_down")}


def mean_steps(cfg: DeviceConfig, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean up and down step magnitudes of the nominal device at weights ``w``."""
    w = np.asarray(w, dtype=np.float64).ravel()
    arr = DeviceArray(nominal(cfg), (w.size, 1), np.random.default_rng(0))
    grid = np.clip(w, arr.b_min[:, 0], arr.b_max[:, 0])[:, None]
    return arr.step_sizes(True, grid)[:, 0], arr.step_sizes(False, grid)[:, 0]


def statistics(cfg: DeviceConfig) -> dict:
    """Numbers device papers quote, for the nominal device (PHYSICS.md §1)."""
    arr = DeviceArray(nominal(cfg), (1, 1), np.random.default_rng(0))
    up0, dn0 = (float(arr.step_sizes(u, np.zeros((1, 1)))[0, 0]) for u in (True, False))
    sym = float(arr.symmetry_point()[0, 0])
    return {"states": float(device_models.number_of_states(cfg)),
            "granularity": float(device_models.nominal_granularity(cfg)),
            "symmetry_point": sym, "up_step_at_0": up0, "down_step_at_0": dn0,
            "asymmetry": (up0 - dn0) / (up0 + dn0) if up0 + dn0 > 0 else 0.0,
            "w_min": float(cfg.w_min), "w_max": float(cfg.w_max),
            "dynamic_range": float(cfg.w_max - cfg.w_min)}
