"""Settings of ``hwsim device fit``, declared once (type, default, range, description).

The model names are hwsim's own (:data:`hwsim.devices.DEVICE_MODELS`), so a
model added to hwsim is offered here by the same declaration (and
tests/fit/test_options.py fails until it can be fitted).
"""
from __future__ import annotations

from hwsim.devices import DEVICE_MODELS
from hwsim.config.params import build_section, param, section


@section("device_fit", "Fitting a device model to measured pulse responses")
class FitOptions:
    model: str = param("auto", choices=("auto",) + DEVICE_MODELS,
                       desc="device model to fit; auto: the lowest BIC among the step models")
    dtod: str = param("auto", choices=("auto", "on", "off"),
                      desc="estimate device-to-device spreads (auto: with two or more devices)")
    min_steps: int = param(3, lo=1, desc="fewest consecutive pulse steps per device and "
                           "direction")
    piecewise_nodes: int = param(11, lo=2, hi=201, desc="nodes of each piecewise_step table, "
                                 "evenly spaced over [b_min, b_max]")
    piecewise_smoothing: float = param(0.01, lo=0, desc="second-difference penalty of the "
                                       "tables, as a fraction of the mean steps per node")


DEFAULT = FitOptions()


def fit_options(**values) -> FitOptions:
    """Checked options (a ConfigError names the bad key)."""
    return build_section(FitOptions, {k: v for k, v in values.items() if v is not None},
                         "device_fit")
