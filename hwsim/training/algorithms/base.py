"""The training-algorithm interface (layer 5).

An algorithm is written once as the hardware program it issues.  It provides:

* ``Params`` — its hyperparameters, declared with units, defaults and sources;
* ``ROLES`` — the crossbar arrays it needs per layer (``("W",)`` for analog SGD,
  ``("A", "C")`` for Tiki-Taka, ``("A", "C", "R")`` for TTv2/c-TTv2...), used by
  the mapper to place layers on tiles;
* :meth:`make_backend` — the weight backend of one analog layer (its MVMs go
  through the simulated periphery and issue ``forward``/``backward`` ops);
* :meth:`update` — after the network's backward pass, the weight updates of one
  mini-batch, issued as ops (pulsed updates, column reads, accumulations, flips...).

A subclass that sets ``NAME`` registers itself in :data:`ALGORITHMS` (the one list of
algorithms: experiments, ``describe``, ``schema`` and the trace generator read it), so
adding an algorithm is adding one module to this package.

``hw`` is a :class:`hwsim.sim.hardware.Hardware` or a :class:`NullHardware` when
timing is off; the numerics never depend on it.  In *symbolic* mode
(:mod:`hwsim.training.algorithms.symbolic`, ``hwsim trace generate``) the same program
runs on shape-only arrays and batches with expected statistics: an algorithm makes its
arrays with :meth:`Algorithm.new_array` and, where it computes digital numbers
itself (buffers, accumulators), takes them from ``ctx.model`` when ``self.symbolic``.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param, section
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError
from hwsim.training.algorithms.analog import AnalogArray
from hwsim.training.algorithms.symbolic import SymbolicArray, SymbolicContext

#: every algorithm by the name experiments use (filled by ``Algorithm.__init_subclass__``)
ALGORITHMS: dict = {}

_REF_DEVICE = ("IBM aihwkit 1.1.0 SoftBoundsReferenceDevice (reference_mean + reference_std·ξ "
               "subtracted from every device it models); Rasch et al., Nat. Commun. 15:7133 "
               "(2024), matrix learning with reference offsets")


@section("analog", "Parameters every analog-weight algorithm shares")
class AnalogParams:
    weight_scale: float = param(1.0, lo=0, lo_open=True,
                                cite="hwsim default 1 = no digital gain; the shipped digits/MNIST "
                                     "experiments use 4, tuned on digits (README 'Honest "
                                     "defaults')",
                                desc="digital output gain α: the network weight is α times the "
                                     "device weights; init programmed as W/α, updates and "
                                     "transfers scaled by 1/α")
    ref_offsets: dict = param(
        factory=dict, cite=_REF_DEVICE,
        desc="role → σ: a static read offset r += σξ on every device of that role's arrays "
             "(visible w − r; e.g. {A: 0.1, C: 0.1}), drawn once from the stream "
             "'{layer}/{role}/offset' and never calibrated away (a reference array R is "
             "programmed without it); roles the algorithm lacks are an error")

    def __post_build__(self, data, path, ctx):
        offsets = data.get("ref_offsets", {}) if isinstance(data, dict) else {}
        for role, sigma in dict(offsets).items():
            if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or \
                    not 0 <= sigma < 1e12:
                raise ConfigError(f"ref_offsets.{role} must be a number ≥ 0, got {sigma!r}",
                                  file=file_of(offsets), line=line_of(offsets, role),
                                  key=f"{path}.ref_offsets.{role}" if path else
                                  f"ref_offsets.{role}")


class NullHardware:
    """Swallows operations when timing is off (and during evaluation)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *a, **k: None


class Algorithm:
    """Base of every algorithm; a subclass with its own ``NAME`` registers itself."""
    NAME = "base"
    Params = None
    ROLES: tuple = ("W",)
    ANALOG = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("NAME")
        if name is None:
            return
        old = ALGORITHMS.get(name)
        if old is not None and (old.__module__, old.__qualname__) != \
                (cls.__module__, cls.__qualname__):
            raise ValueError(f"algorithm '{name}' is declared twice: {old.__module__}."
                             f"{old.__qualname__} and {cls.__module__}.{cls.__qualname__}")
        if cls.Params is None:
            raise TypeError(f"algorithm '{name}' ({cls.__qualname__}) declares no Params section")
        ALGORITHMS[name] = cls

    def __init__(self, params, training, context):
        """``context`` carries device, update and mvm configs, rng factory, backend, hw."""
        self.params = params
        self.training = training
        self.ctx = context
        self.lr = training.lr
        self.backends: dict = {}

    @property
    def hw(self):
        return self.ctx.hw

    @property
    def symbolic(self) -> bool:
        """True when the program runs on shapes with expected statistics (trace generate)."""
        return isinstance(self.ctx, SymbolicContext)

    @classmethod
    def check_settings(cls, params, cfg, acc, device) -> None:
        """Warn (:func:`hwsim.errors.warn`) about settings of experiment ``cfg`` that run
        but do not do what they read as; called by ``prepare`` (run and validate)."""

    def new_array(self, layer: str, role: str, shape, **kw) -> AnalogArray:
        """The crossbar array ``layer``/``role`` (a shape-only one in symbolic mode), with
        the role's static read offset (``ref_offsets``) added to its reference."""
        cls = SymbolicArray if self.symbolic else AnalogArray
        arr = cls(self.ctx, layer, role, shape, **kw)
        off = self.ref_offset(layer, role, arr.shape)
        if off is not None:
            arr.array.reference = arr.array.reference + off
            arr.static_offset = off          # (what R's programming leaves uncompensated)
            arr.note_write(reference=True)
        return arr

    def ref_offset(self, layer: str, role: str, shape):
        """The static read offset σξ of ``layer``/``role`` (``ref_offsets``; None when
        the role has none or in symbolic mode).  Its own stream: no other draw moves."""
        sigma = float(dict(getattr(self.params, "ref_offsets", None) or {}).get(role, 0.0))
        if sigma <= 0 or self.symbolic:
            return None
        return sigma * self.ctx.rng(f"{layer}/{role}/offset").standard_normal(tuple(shape))

    def check_roles(self, file=None) -> None:
        """``ref_offsets`` names only roles of this algorithm (ConfigError otherwise)."""
        offsets = getattr(self.params, "ref_offsets", None) or {}
        for role in offsets:
            if role not in self.ROLES:
                raise ConfigError(f"{self.NAME} has no array role {role!r} for ref_offsets "
                                  f"(its roles: {', '.join(self.ROLES)})",
                                  file=file_of(offsets) or file, line=line_of(offsets, role),
                                  key=f"training.params.ref_offsets.{role}")

    def make_backend(self, name: str, out_features: int, in_features: int, init_w: np.ndarray):
        raise NotImplementedError

    def update(self, network, batch_size: int) -> None:
        raise NotImplementedError

    def end_epoch(self, epoch: int) -> None:
        """Hook (e.g. drift or decay between epochs)."""

    def stats(self) -> dict:
        """Algorithm statistics for the report (pulses per device, writes...)."""
        return {}

    def state(self) -> dict:
        """Everything needed to resume bit for bit (arrays, counters, rng states)."""
        return {"backends": self.backends}

    def load_state(self, state: dict) -> None:
        self.backends = state["backends"]
