"""``--model auto``: fit every model, pick the one with the lowest BIC.

Bayesian information criterion (Schwarz 1978) on *all* steps (clipped ones included,
predicted with the clipping at each device's bounds, so a model that puts a bound in
the wrong place pays), Gaussian residuals with a variance of their own per device and
direction (devices differ in gain, so in noise; c2c noise is multiplicative):

    BIC = Σ_{device, dir} n·ln(RSS/n) + k·ln(n_steps)

k = the number of fitted parameters (per-device gains, bounds and shapes, plus shared
shape values; a piecewise table counts each node).  BIC rather than AIC: its penalty
grows with the data, so with hundreds of steps per device it does not prefer a richer
model for a small gain in fit and picks the generating model when that one is among
the candidates (it is consistent; AIC is not).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.fit import models_response, models_shape, piecewise  # noqa: F401 - registering
from hwsim.fit.models import MODELS, Fit
from hwsim.fit.options import DEFAULT, FitOptions
from hwsim.fit.pulse_data import Steps

#: candidates of ``--model auto`` in order of simplicity (ties go to the simpler).  The
#: response families are fitted on request only: response_linear is LinearStep with
#: γ⁺ = −γ⁻, response_offset predicts what response_linear does, and response_power and
#: response_exp are nearly the same curve over a device's range, so with 8 × 3 × 200
#: steps BIC tells them apart only by chance (measured: 6 wrong picks of 12).
AUTO_ORDER = ("constant_step", "soft_bounds", "linear_step", "pow_step", "exp_step",
              "piecewise_step")


@dataclass(frozen=True)
class Scored:
    fit: Fit
    bic: float
    rss_up: float
    rss_down: float


def bic(fit: Fit, steps: Steps) -> Scored:
    r = steps.dw - fit.predict(steps)
    group = 2 * steps.dev + (~steps.up)             # one variance per device and direction
    n = np.bincount(group, minlength=2 * steps.n_devices)
    rss_g = np.bincount(group, weights=r * r, minlength=2 * steps.n_devices)
    used = n > 0
    total = float(np.sum(n[used] * np.log(np.maximum(rss_g[used] / n[used], 1e-300))))
    rss = [float(np.sum(r[steps.up == u] ** 2)) for u in (True, False)]
    return Scored(fit, total + fit.n_params() * math.log(steps.size), rss[0], rss[1])


def fit_model(name: str, steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    return MODELS[name](steps, opts)


def choose(steps: Steps, candidates=AUTO_ORDER,
           opts: FitOptions = DEFAULT) -> tuple[Scored, list[Scored]]:
    """The best-scoring fit and all scores (in ``candidates`` order)."""
    scores = [bic(fit_model(m, steps, opts), steps) for m in candidates]
    best = min(scores, key=lambda s: s.bic)      # min keeps the first of equal scores
    return best, scores
