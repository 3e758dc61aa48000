"""What every device model shares (PHYSICS.md §1): the common config section, the
kernel codes, the model registry and the libm helpers of the NumPy reference steps.

A device model is one module of this package holding one frozen section, a subclass of
:class:`DeviceConfig` decorated with :func:`device_model`, with

* its own parameters (the shared ones — step, spreads, bounds, non-idealities — are
  declared here once);
* ``kernel``: its :class:`KernelCode` in the compiled pulse kernel
  (``cython_ext/pulse_device.pxi``), or ``None`` for a NumPy-only model (then only
  ``backend: numpy`` runs it; the cython backend refuses it with a
  :class:`~hwsim.errors.BackendError`);
* :meth:`DeviceConfig.q`: the NumPy reference step q±(w) of one pulse, the oracle the
  kernel equals bit for bit, and :meth:`DeviceConfig.device_params`: the per-device
  kernel parameters ``p_up``, ``p_dn`` drawn when an array is built.

A pulse moves a device by ``±Δ±·q±(w)·(1 + σξ)`` (then clipped to [b_min, b_max]).
This package imports :mod:`hwsim.config.params` (and numpy) only; the loader
(:func:`hwsim.devices.load_device`) and the physics layer use it.
"""
from __future__ import annotations

import dataclasses

import enum
import math

import numpy as np

from hwsim.config.params import param, section
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import BackendError, ConfigError

_GV16 = "Gokmen & Vlasov 2016 / PHYSICS.md §1"
#: relative spreads are floored at this factor (bounds keep their sign, slopes stay > 0)
DTOD_FLOOR = 0.05
DEFAULT_MODEL = "soft_bounds"
#: ExpStep scalars the kernel ignores for every other model; equal to ExpStep's defaults
#: so the device state of every model is the same arrays as before the split
_IDLE_SCALARS = (0.0498, 0.0498, 3.0, 3.0, 0.0)
_IDLE_NODES = (1.0, 1.0)


class KernelCode(enum.IntEnum):
    """Step functions of the compiled kernel (``cython_ext/pulse_device.pxi``, enum
    ``MODEL_<NAME>``); :func:`check_kernel_codes` compares both at import."""
    CONSTANT = 0
    LINEAR = 1
    EXP = 2
    POW = 3
    PIECEWISE = 4
    RPOWER = 5
    REXP = 6


def check_kernel_codes(compiled: dict, where: str) -> None:
    """Raise :class:`BackendError` unless ``compiled`` (``model_codes()`` of a kernel
    module) names exactly the codes of :class:`KernelCode`."""
    ours = {c.name: int(c) for c in KernelCode}
    if dict(compiled) != ours:
        raise BackendError(f"compiled kernel {where} has device model codes {dict(compiled)}, "
                           f"hwsim.devices expects {ours}: rebuild with `pip install .`")


_exp = np.frompyfunc(math.exp, 1, 1)
_pow = np.frompyfunc(math.pow, 2, 1)


def real(w) -> np.ndarray:
    """``w`` as a floating array of its own precision (float32 device state stays
    float32: the oracle computes in the kernel's precision); other input as float64."""
    a = np.asarray(w)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def libm_exp(x) -> np.ndarray:
    """exp through the C library, as the kernel computes it (NumPy's SIMD exp may differ
    from libm in the last place): in float64, rounded once to the precision of ``x``
    (the kernel's ``<real>exp(<double>x)``)."""
    a = real(x)
    return np.asarray(_exp(a.astype(np.float64)), dtype=np.float64).astype(a.dtype, copy=False)


def libm_pow(x, y) -> np.ndarray:
    """pow through the C library in float64, rounded once to the precision of ``x``."""
    a = real(x)
    return np.asarray(_pow(a.astype(np.float64), np.asarray(y, dtype=np.float64)),
                      dtype=np.float64).astype(a.dtype, copy=False)


# ---- registry --------------------------------------------------------------------------
_MODELS: dict[str, type] = {}


def model_param(name: str):
    """The ``model`` field of a device section: its registry name, the only value allowed."""
    return param(name, desc="device model (the step model q±(w) of one pulse)", choices=(name,))


def device_section(cls):
    """Class decorator: ``cls`` (a :class:`DeviceConfig` subclass) becomes a frozen
    section; its description is the first line of its docstring."""
    doc = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
    return section("device", doc)(cls)


def register_device_model(cls):
    """Add a device section to the registry under the default of its ``model`` field."""
    if not (isinstance(cls, type) and issubclass(cls, DeviceConfig)):
        raise TypeError(f"a device model must subclass DeviceConfig, got {cls!r}")
    name = cls.__dataclass_fields__["model"].default
    if _MODELS.get(name, cls) is not cls:
        raise ValueError(f"device model '{name}' is already registered ({_MODELS[name]!r})")
    _MODELS[name] = cls
    return cls


def unregister_device_model(name: str) -> None:
    _MODELS.pop(name, None)


def device_model(cls):
    """Class decorator of a device model module: :func:`device_section`, then
    :func:`register_device_model`."""
    return register_device_model(device_section(cls))


def device_sections() -> dict[str, type]:
    """Every registered device model: name → section class, in registration order."""
    return dict(_MODELS)


def derive(cfg, **changes):
    """A device config like ``cfg`` with ``changes``.  A change of ``model`` gives the
    new model's section with every field the two share carried over (the old model's own
    fields are dropped); a change names a field the resulting model must have."""
    cls = model_section(changes.get("model", cfg.model))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ValueError(f"device model {cls.__name__} has no field(s) {', '.join(unknown)}")
    kept = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name in names}
    return cls(**(kept | changes))


def model_section(name) -> type:
    if not isinstance(name, str) or name not in _MODELS:
        raise ValueError(f"unknown device model {name!r} (known: {', '.join(_MODELS)})")
    return _MODELS[name]


# ---- the common section ----------------------------------------------------------------
@section("device", "Resistive cross-point device: step model, spreads and non-idealities")
class DeviceConfig:
    """Parameters every device model has; ``DeviceConfig(model=..., ...)`` builds the
    section of that model (``DeviceConfig()`` is the default soft-bounds device)."""
    source: str = param("", desc="citation text for the preset values")
    model: str = param(DEFAULT_MODEL, desc="device model (see `hwsim describe device`)")
    dw_min: float = param(0.001, desc="nominal step Δ of one pulse (weight units)", lo=0,
                          lo_open=True, cite=_GV16)
    dw_min_dtod: float = param(0.3, desc="device-to-device spread of the gain g", lo=0, cite=_GV16)
    dw_min_std: float = param(0.3, desc="cycle-to-cycle multiplicative step noise σ", lo=0,
                              cite=_GV16)
    dw_min_std_add: float = param(0.0, lo=0,
                                  desc="additive per-pulse noise, in units of the device step Δ±")
    dw_min_std_slope: float = param(0.0, lo=0,
                                    desc="per-pulse noise growing with |w|, units of Δ± per weight")
    w_max: float = param(0.6, desc="nominal upper bound", cite=_GV16)
    w_min: float = param(-0.6, desc="nominal lower bound", cite=_GV16)
    w_max_dtod: float = param(0.3, desc="relative spread of the upper bound b_max", lo=0, cite=_GV16)
    w_min_dtod: float = param(0.3, desc="relative spread of the lower bound b_min", lo=0, cite=_GV16)
    up_down: float = param(0.0, desc="systematic up/down step asymmetry", cite=_GV16)
    up_down_dtod: float = param(0.01, desc="device-to-device spread of the asymmetry r", lo=0,
                                cite=_GV16)
    w_init: float = param(0.0, desc="initial weight (clipped into each device's bounds)")
    ref_mean: float = param(0.0, desc="mean of the per-device reference r (visible w - r)")
    ref_std: float = param(0.0, lo=0, desc="spread of the per-device reference r")
    write_noise_std: float = param(0.0, lo=0, desc="visible-weight noise after a write, × dw_min")
    lifetime: float = param(0.0, lo=0, desc="decay time constant τ_life in mini-batches (0 = off)")
    lifetime_dtod: float = param(0.0, lo=0, desc="relative spread of τ_life")
    decay_target: float = param(0.0, desc="weight b the decay relaxes to")
    diffusion: float = param(0.0, lo=0, desc="random-walk std per mini-batch (weight units)")
    diffusion_dtod: float = param(0.0, lo=0, desc="relative spread of the diffusion rate")
    stuck_fraction: float = param(0.0, lo=0, hi=1, desc="fraction of devices with zero step")
    count_pulses: bool = param(False, desc="keep an int64 pulse counter per device (endurance)")

    #: KernelCode of the compiled step function; None: NumPy reference step only
    kernel = None
    #: n pulses may be one lumped step n·Δ (exact only where q± ≡ 1)
    lumpable = False

    def __new__(cls, *args, **kwargs):
        if cls is DeviceConfig:                 # dispatch to the model's own section
            cls = model_section(kwargs.get("model", DEFAULT_MODEL))
        return object.__new__(cls)

    def __setstate__(self, state):
        """Unpickling, also of a checkpoint written before the models were split (its
        state is the flat union of every model's fields): the section of the model the
        state names, with that model's fields only."""
        cls = model_section(state.get("model", DEFAULT_MODEL))
        object.__setattr__(self, "__class__", cls)
        self.__dict__.update({k: v for k, v in state.items() if k in cls.__dataclass_fields__})

    def __post_build__(self, data, path, ctx):
        if not self.w_min < self.w_max:
            self._fail(data, path, "w_min", f"w_min ({self.w_min}) must be below w_max "
                       f"({self.w_max})")
        if self.w_max <= 0:
            self._fail(data, path, "w_max", "w_max must be positive")

    @staticmethod
    def _fail(data, path, key, msg):
        raise ConfigError(msg, file=file_of(data), line=line_of(data, key),
                          key=f"{path}.{key}" if path else key)

    # ---- the model: override in a model module -------------------------------------------
    def device_params(self, arr, xi) -> tuple[np.ndarray, np.ndarray]:
        """Per-device kernel parameters (p_up, p_dn) of ``arr`` (a DeviceArray being
        built: bounds b_min/b_max and steps dw_up/dw_down drawn); ``xi`` is the standard
        normal draw reserved for the spread of the model's slope."""
        z = np.zeros(arr.shape)
        return z, z

    def kernel_scalars(self) -> np.ndarray:
        """Scalars of the kernel step function: [A_up, A_dn, γ_up, γ_dn, b] (ExpStep)."""
        return np.array(_IDLE_SCALARS, dtype=np.float64)

    def kernel_nodes(self, up: bool) -> tuple[float, ...]:
        """Node values of the PiecewiseStep interpolation (unused elsewhere)."""
        return _IDLE_NODES

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes) -> np.ndarray:
        """q⁺(w) (``up``) or q⁻(w) elementwise: the NumPy reference step."""
        raise NotImplementedError(f"device model {self.model} declares no step q±(w)")

    def q_fast(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes) -> np.ndarray:
        """As :meth:`q` with NumPy's own exp/pow (analysis, not a bitwise oracle)."""
        return self.q(up, w, p_up, p_dn, b_min, b_max, scalars, nodes)

    def granularity(self) -> float:
        """Granularity ε of the nominal device (PHYSICS.md §1): dw_min unless the model
        says otherwise."""
        return self.dw_min

    def number_of_states(self) -> float:
        """States = (w_max − w_min)/ε (PHYSICS.md §1)."""
        eps = self.granularity()
        return (self.w_max - self.w_min) / eps if eps > 0 else math.inf

    def symmetry_point(self, arr) -> np.ndarray:
        """Per-device w⋄ where the mean up and down steps of ``arr`` are equal: bisection
        on the decreasing Δ⁺q⁺(w) − Δ⁻q⁻(w) over [b_min, b_max]."""
        lo, hi = arr.b_min.copy(), arr.b_max.copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            pos = arr.step_sizes(True, mid) - arr.step_sizes(False, mid) > 0
            lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
        return 0.5 * (lo + hi)
