"""Fitting hwsim's step models to measured steps, device by device (PHYSICS.md §1).

A pulse on device i moves it by ``±Δ±_i·q±(w)`` plus noise, clipped to
[b_min_i, b_max_i].  A fit estimates, per device, the gains Δ±_i, the bounds and the
shape of q±; :func:`population` turns those into the device YAML's mean values and
device-to-device spreads, and the residuals give the cycle-to-cycle noise:

    σ² = Σ (y − Δq)² / Σ (Δq)²        (multiplicative noise Δq(1 + σξ), unclipped steps)

Here y = ±dw is the step in the pulse's direction.  Steps that end on a device's
observed extreme (clipped by a bound) are left out of the shape fits; bounds of models
with hard bounds are the observed extremes.

This module declares the registry (:data:`MODELS`) and the linear family, whose fits
are closed-form per-device least squares (y ≈ a + b·w per direction):

=============  =============================  ========================================
model          q±(w)                          from the line a + b·w
=============  =============================  ========================================
constant_step  1                              Δ = mean y
linear_step    1 − p±·w                       p = −b/a, then one shared p± (see fit_linear)
soft_bounds    1 − w/b±                       Δ = a, b± = −a/b (the asymptote)
=============  =============================  ========================================

:mod:`hwsim.fit.models_shape` adds exp_step and pow_step, :mod:`hwsim.fit.piecewise`
the lookup table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from hwsim.fit.optimize import dsum, ols, shared_shape_fit
from hwsim.fit.options import DEFAULT, FitOptions
from hwsim.fit.pulse_data import Steps

#: name -> fit function ``(steps) -> Fit``; filled by the model modules
MODELS: dict[str, Callable] = {}


def register(name: str):
    def wrap(fn):
        MODELS[name] = fn
        return fn
    return wrap


@dataclass
class Fit:
    """Per-device parameters of one fitted model and the YAML keys of its shape."""
    model: str
    dp: np.ndarray                  # (D,) Δ⁺_i
    dn: np.ndarray                  # (D,) Δ⁻_i
    bmax: np.ndarray                # (D,) upper bound b_max,i
    bmin: np.ndarray                # (D,) lower bound b_min,i
    q: Callable                     # q(w, dev, up) -> step factor (rows)
    params_per_device: int
    params_global: int = 0
    shape: dict = field(default_factory=dict)    # YAML keys of the shape (model-specific)
    notes: list = field(default_factory=list)    # comment lines for the YAML
    #: (upper, lower) masks of the devices whose bound the data locate (None: all)
    bound_ok: tuple | None = None
    #: factors of Δ± that the shape carries (response_offset's 1 ± c), not the gains
    gain_scale: tuple = (1.0, 1.0)

    def n_params(self) -> int:
        return self.params_per_device * len(self.dp) + self.params_global

    def mean_step(self, steps: Steps) -> np.ndarray:
        """Δ±_i q±(w) of every step (unsigned, unclipped)."""
        gain = np.where(steps.up, self.dp[steps.dev], self.dn[steps.dev])
        return gain * self.q(steps.w, steps.dev, steps.up)

    def predict(self, steps: Steps) -> np.ndarray:
        """The mean signed change of every step, clipped to the device's bounds."""
        s = np.where(steps.up, 1.0, -1.0)
        after = np.clip(steps.w + s * self.mean_step(steps), self.bmin[steps.dev],
                        self.bmax[steps.dev])
        return after - steps.w


def along(steps: Steps) -> np.ndarray:
    """y = the step in the pulse's direction (+dw for up pulses, −dw for down)."""
    return np.where(steps.up, steps.dw, -steps.dw)


def line_fits(steps: Steps, se: bool = False):
    """Per-device (a, b[, se of b]) of y ≈ a + b·w for up and down steps (unclipped)."""
    y, out = along(steps), []
    for up in (True, False):
        m = ~steps.clipped & (steps.up == up)
        out.append(ols(steps.dev[m], steps.w[m], y[m], steps.n_devices, se=se))
    return out


def step_noise(fit: Fit, steps: Steps) -> float:
    """Cycle-to-cycle σ from the unclipped residuals (module docstring)."""
    m = ~steps.clipped
    mu = fit.mean_step(steps)[m]
    r = along(steps)[m] - mu
    den = float(np.sum(mu * mu))
    return float(np.sqrt(np.sum(r * r) / den)) if den > 0 else 0.0


def rmse(fit: Fit, steps: Steps) -> tuple[float, float]:
    """Root-mean-square error of the predicted (clipped) change, up and down steps."""
    r = steps.dw - fit.predict(steps)
    return tuple(float(np.sqrt(np.mean(r[steps.up == u] ** 2))) for u in (True, False))


def _spread(x: np.ndarray, scale: float) -> float:
    return float(np.std(x, ddof=1) / abs(scale)) if x.size > 1 and scale != 0 else 0.0


def population(fit: Fit, dtod: bool) -> dict:
    """Mean values and spreads of the gains and bounds (of the devices whose bounds the
    data locate, ``Fit.bound_ok``), inverting PHYSICS.md §1:

    Δ⁺ = (g + min(u,0) + r)·dw_min,  Δ⁻ = (g − max(u,0) − r)·dw_min with mean g = 1 and
    mean r = 0 give  dw_min = (S + |D|)/2,  u = D/dw_min  (S, D the mean of Δ⁺ ± Δ⁻),
    g_i = ((Δ⁺_i + Δ⁻_i)/dw_min + |u|)/2,  r_i = ((Δ⁺_i − Δ⁻_i)/dw_min − u)/2.
    """
    dp, dn = fit.dp / fit.gain_scale[0], fit.dn / fit.gain_scale[1]
    s, d = float(np.mean(dp + dn)), float(np.mean(dp - dn))
    dw_min = 0.5 * (s + abs(d))
    ud = d / dw_min
    g = ((dp + dn) / dw_min + abs(ud)) / 2.0
    r = ((dp - dn) / dw_min - ud) / 2.0
    ok_hi, ok_lo = fit.bound_ok or (None, None)
    b_hi = fit.bmax[ok_hi] if ok_hi is not None and ok_hi.any() else fit.bmax
    b_lo = fit.bmin[ok_lo] if ok_lo is not None and ok_lo.any() else fit.bmin
    w_max, w_min = float(np.mean(b_hi)), float(np.mean(b_lo))
    out = {"dw_min": dw_min, "dw_min_dtod": 0.0, "up_down": ud, "up_down_dtod": 0.0,
           "w_max": w_max, "w_min": w_min, "w_max_dtod": 0.0, "w_min_dtod": 0.0}
    if dtod and len(fit.dp) > 1:
        out.update(dw_min_dtod=_spread(g, 1.0), up_down_dtod=_spread(r, 1.0),
                   w_max_dtod=_spread(b_hi, w_max), w_min_dtod=_spread(b_lo, w_min))
    return out


@dataclass(frozen=True)
class Bounds:
    bmax: np.ndarray
    bmin: np.ndarray
    ok: tuple                     # (upper, lower) masks of the devices that located them
    notes: list


def bound_notes(ok: tuple, why: str) -> list[str]:
    notes = []
    for mask, name in zip(ok, ("upper", "lower")):
        n_miss = int(np.sum(~mask))
        if n_miss:
            used = "left out of the mean and spread" if mask.any() else "used anyway"
            notes.append(f"{n_miss} of {mask.size} devices {why} their {name} bound ({used})")
    return notes


def hard_bounds(steps: Steps) -> Bounds:
    """Bounds that clip: the observed extremes of every device.  A device that never sat
    on a bound (no pulse left it where it was, at its extreme) only gives a lower limit
    of the bound's size: it is left out of the population's bound (``Fit.bound_ok``)."""
    still = steps.clipped & (np.abs(steps.dw) <= 1e-12 * np.maximum(np.abs(steps.w), 1.0))
    ok = tuple(np.bincount(steps.dev[still & (steps.up == up)], minlength=steps.n_devices) > 0
               for up in (True, False))
    return Bounds(steps.w_hi.copy(), steps.w_lo.copy(), ok,
                  bound_notes(ok, "never reached (measure more pulses per sweep)"))


# ---- the linear family ------------------------------------------------------------
@register("constant_step")
def fit_constant(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    y, keep, n = along(steps), ~steps.clipped, steps.n_devices
    gains = []
    for up in (True, False):
        m = keep & (steps.up == up)
        gains.append(dsum(steps.dev[m], y[m], n) / np.maximum(steps.counts(m), 1))
    b = hard_bounds(steps)
    return Fit("constant_step", gains[0], gains[1], b.bmax, b.bmin,
               q=lambda w, dev, up: np.ones_like(w), params_per_device=4, notes=b.notes,
               bound_ok=b.ok)


def _linear_q(p_up, p_dn):
    def q(w, dev, up):
        return np.maximum(1.0 - np.where(up, p_up[dev], p_dn[dev]) * w, 0.0)
    return q


@register("linear_step")
def fit_linear(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    """Per-device lines give start values and the slope spread; hwsim's LinearStep has
    one slope per direction (p = γ/w_max, common to all devices up to the spread), so
    the model scored and written shares p±, with the gains Δ±_i profiled out."""
    (a_up, b_up), (a_dn, b_dn) = line_fits(steps)
    bnd = hard_bounds(steps)
    bmax, bmin = bnd.bmax, bnd.bmin
    y, keep, n = along(steps), ~steps.clipped, steps.n_devices
    p_dev, p, gains = [], [], []
    for up, a, b in ((True, a_up, b_up), (False, a_dn, b_dn)):
        pd = np.divide(-b, a, out=np.zeros_like(a), where=a != 0)
        m = keep & (steps.up == up)
        w, dev = steps.w[m], steps.dev[m]
        t, gain = shared_shape_fit(lambda t, w=w: np.maximum(1.0 - t[0] * w, 0.0),
                                   [np.mean(pd)], dev, y[m], n)
        p_dev.append(pd)
        p.append(float(t[0]))
        gains.append(gain)
    w_max, w_min = float(np.mean(bmax[bnd.ok[0]] if bnd.ok[0].any() else bmax)), \
        float(np.mean(bmin[bnd.ok[1]] if bnd.ok[1].any() else bmin))
    g_up, g_dn = p[0] * w_max, p[1] * w_min
    # one relative spread s_i scales both slopes (DeviceArray): take the larger slope's
    big = 0 if abs(g_up) >= abs(g_dn) else 1
    spread = _spread(p_dev[big], p[big]) if max(abs(g_up), abs(g_dn)) > 0.02 else 0.0
    shape = {"linear_gamma_up": g_up, "linear_gamma_down": g_dn,
             "linear_gamma_dtod": min(spread, 1.0)}
    return Fit("linear_step", gains[0], gains[1], bmax, bmin,
               q=_linear_q(np.full(n, p[0]), np.full(n, p[1])),
               params_per_device=4, params_global=2, shape=shape, notes=bnd.notes,
               bound_ok=bnd.ok)


@register("soft_bounds")
def fit_soft_bounds(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
    """b± = −a/b; a device's bound counts for the population where its slope is known to
    25 % (standard error), else the device swept too little of its range to locate it."""
    (a_up, b_up, se_up), (a_dn, b_dn, se_dn) = line_fits(steps, se=True)
    span = steps.w_hi - steps.w_lo
    far = 100.0 * np.maximum(span, 1e-12)
    # b± = −a/b is the asymptote (b < 0 up, b > 0 down); it cannot lie inside the weights the device reached
    with np.errstate(divide="ignore", invalid="ignore"):
        bmax = np.where(b_up < 0, -a_up / b_up, np.inf)
        bmin = np.where(b_dn > 0, -a_dn / b_dn, -np.inf)
    bmax = np.clip(np.nan_to_num(bmax, nan=np.inf), steps.w_hi, steps.w_hi + far)
    bmin = np.clip(np.nan_to_num(bmin, nan=-np.inf), steps.w_lo - far, steps.w_lo)
    bmax = np.maximum(bmax, 1e-12)
    bmin = np.minimum(bmin, -1e-12)
    ok = (se_up < 0.25 * np.abs(b_up)) & (b_up < 0), (se_dn < 0.25 * np.abs(b_dn)) & (b_dn > 0)
    return Fit("soft_bounds", a_up, a_dn, bmax, bmin, q=_linear_q(1.0 / bmax, 1.0 / bmin),
               params_per_device=4, notes=bound_notes(ok, "swept too little to locate"),
               bound_ok=ok)
