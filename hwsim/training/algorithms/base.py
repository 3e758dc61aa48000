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

``hw`` is a :class:`hwsim.sim.hardware.Hardware` or a :class:`NullHardware` when
timing is off; the numerics never depend on it.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param, section


@section("analog", "Parameters every analog-weight algorithm shares")
class AnalogParams:
    weight_scale: float = param(1.0, lo=0, lo_open=True,
                                desc="digital output gain α: the network weight is α times the "
                                     "device weights; init programmed as W/α, updates and "
                                     "transfers scaled by 1/α")


class NullHardware:
    """Swallows operations when timing is off (and during evaluation)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *a, **k: None


class Algorithm:
    NAME = "base"
    Params = None
    ROLES: tuple = ("W",)
    ANALOG = True

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
