"""``--model auto``: fit every model, pick the one with the lowest BIC.

Bayesian information criterion (Schwarz 1978) with Gaussian residuals of their own
variance per direction, on *all* steps (clipped ones included, predicted with the
clipping at each device's bounds, so a model that puts a bound in the wrong place pays):

    BIC = Σ_dir n_dir·ln(RSS_dir/n_dir) + k·ln(n)

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

from hwsim.fit import models_shape, piecewise  # noqa: F401 - they register their models
from hwsim.fit.models import MODELS, Fit
from hwsim.fit.pulse_data import Steps

#: candidates of ``--model auto`` in order of simplicity (ties go to the simpler)
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
    total, rss = 0.0, []
    for up in (True, False):
        rr = r[steps.up == up]
        s = float(np.sum(rr * rr))
        rss.append(s)
        total += rr.size * math.log(max(s / max(rr.size, 1), 1e-300))
    return Scored(fit, total + fit.n_params() * math.log(steps.size), rss[0], rss[1])


def fit_model(name: str, steps: Steps) -> Fit:
    return MODELS[name](steps)


def choose(steps: Steps, candidates=AUTO_ORDER) -> tuple[Scored, list[Scored]]:
    """The best-scoring fit and all scores (in ``candidates`` order)."""
    scores = [bic(fit_model(m, steps), steps) for m in candidates]
    best = min(scores, key=lambda s: s.bic)      # min keeps the first of equal scores
    return best, scores
