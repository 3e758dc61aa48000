"""The fitted device as a device YAML (configs/devices/*.yaml schema), with comments.

The text is built here and checked by loading it back with hwsim's own device loader
(:func:`hwsim.fit.device_sim.load`) before anything is written, so a file on disk is
always one that ``device: path.yaml`` accepts as it is.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from hwsim.config.yamlio import load_yaml_text
from hwsim.fit import device_sim
from hwsim.fit.models import Fit

#: keys in the order they are written (the rest of the shape follows)
_ORDER = ("dw_min", "dw_min_dtod", "dw_min_std", "w_max", "w_min", "w_max_dtod",
          "w_min_dtod", "up_down", "up_down_dtod")


@dataclass
class FitReport:
    """What the YAML comments say about the fit."""
    data_file: str
    command: str
    n_devices: int
    n_up: int
    n_down: int
    rmse_up: float
    rmse_down: float
    scores: list = field(default_factory=list)     # [(model, ΔBIC)] of --model auto
    notes: list = field(default_factory=list)


def _num(v: float) -> str:
    text = f"{float(v):.6g}"
    return text if any(c in text for c in ".en") else text + ".0"


def _value(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_num(x) for x in v) + "]"
    return _num(v)


def device_values(fit: Fit, population: dict, sigma: float) -> dict:
    """The YAML keys of a fitted device (model, gains, bounds, spreads, noise, shape)."""
    values = dict(population, dw_min_std=sigma)
    values.update(fit.shape)
    return {"model": fit.model, **{k: values[k] for k in _ORDER},
            **{k: v for k, v in values.items() if k not in _ORDER}}


def render(values: dict, rep: FitReport) -> str:
    dw = values["dw_min"]
    name = os.path.basename(rep.data_file)
    lines = ["# Device fitted to measured pulse responses by `hwsim device fit`.",
             f"# command: {rep.command}",
             f"# data: {name}: {rep.n_devices} device(s), {rep.n_up + rep.n_down} pulse steps "
             f"({rep.n_up} up, {rep.n_down} down)",
             f"# fit quality: RMSE of the predicted change per pulse, up {rep.rmse_up:.3g} "
             f"({rep.rmse_up / dw:.2f} dw_min), down {rep.rmse_down:.3g} "
             f"({rep.rmse_down / dw:.2f} dw_min); dw_min_std is the cycle-to-cycle noise "
             f"left in the residuals"]
    if rep.scores:
        lines.append("# --model auto, BIC above the best: " +
                     ", ".join(f"{m} {d:+.0f}" for m, d in rep.scores))
    lines += [f"# note: {n}" for n in rep.notes]
    lines.append("schema_version: 1")
    lines.append(f'source: "fit of {name} by hwsim device fit (model {values["model"]}, '
                 f'{rep.n_devices} devices, {rep.n_up + rep.n_down} steps)"')
    for k, v in values.items():
        lines.append(f"{k}: {v}" if k == "model" else f"{k}: {_value(v)}")
    return "\n".join(lines) + "\n"


def check(text: str, name: str):
    """Load the YAML text as a device (raises hwsim's ConfigError if it is not valid)."""
    return device_sim.load(load_yaml_text(text, name=name))


def write(text: str, path: str) -> None:
    """Write atomically: a partial file never replaces a good one."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
