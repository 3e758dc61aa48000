"""The response-function families of Wu et al. (NeurIPS 2024), as hwsim declares them
(PHYSICS.md §1, hwsim.physics.device_models): a pulse moves w by Δ±·q±(w) with

=================  ==========================================  =====================
model              q±(w)                                        shared shape
=================  ==========================================  =====================
response_linear    max(0, 1 ∓ w/τ)                              τ
response_offset    (1 ± c)·max(0, 1 ∓ w/τ)                      τ, c
response_power     max(0, 1 ∓ w/τ)^γ                            τ, γ
response_exp       max(0, (e^{γ(1 ∓ w/τ)} − 1)/(e^γ − 1))       τ, γ
=================  ==========================================  =====================

and hard bounds (the observed extremes).  τ and γ are shared by all devices (one value
in the YAML), so they are fitted by Levenberg–Marquardt on all devices at once with the
gains Δ±_i in closed form (:func:`hwsim.fit.optimize.shared_shape_fit`; one gain per
device and direction), started from the per-device lines (1/τ ≈ the mean slope).
response_offset predicts exactly what response_linear does — its (1 ± c) is the same
thing as the up/down asymmetry — so it is fitted on request but not a ``--model auto``
candidate; its c is the mean asymmetry (Δ⁺ − Δ⁻)/(Δ⁺ + Δ⁻) and up_down is then ~0.
"""
from __future__ import annotations

import numpy as np

from hwsim.fit.models import Fit, along, hard_bounds, line_fits, register
from hwsim.fit.optimize import shared_shape_fit
from hwsim.fit.options import DEFAULT, FitOptions
from hwsim.fit.pulse_data import Steps


def _families(kind):
    """q(x, t) with x = ±w (+ up, − down) and t the shape vector [1/τ(, γ)]."""
    if kind == "linear":
        return lambda x, t: np.maximum(1.0 - t[0] * x, 0.0)
    if kind == "power":
        return lambda x, t: np.maximum(1.0 - t[0] * x, 0.0) ** abs(t[1])
    g = lambda t: max(abs(t[1]), 1e-9)  # noqa: E731 - γ > 0 (hwsim: response_gamma > 0)
    return lambda x, t: np.maximum(np.expm1(g(t) * (1.0 - t[0] * x)) / np.expm1(g(t)), 0.0)


def _fit(steps: Steps, model: str, kind: str) -> Fit:
    bnd = hard_bounds(steps)
    keep, n = ~steps.clipped, steps.n_devices
    x = np.where(steps.up, steps.w, -steps.w)[keep]
    idx = (2 * steps.dev + (~steps.up))[keep]          # one gain per device and direction
    order = np.argsort(idx, kind="stable")
    x, idx, y = x[order], idx[order], along(steps)[keep][order]
    (a_up, b_up), (a_dn, b_dn) = line_fits(steps)
    slope = np.concatenate((-b_up / np.where(a_up != 0, a_up, 1.0),
                            b_dn / np.where(a_dn != 0, a_dn, 1.0)))
    span = float(np.max(steps.w_hi - steps.w_lo))
    inv_tau = float(np.mean(slope)) if np.mean(slope) > 0.01 / span else 0.01 / span
    qx = _families(kind)
    t0 = [inv_tau] if kind == "linear" else [inv_tau, 1.0]
    t, gains = shared_shape_fit(lambda t: qx(x, t), t0, idx, y, 2 * n)
    notes = list(bnd.notes)
    if t[0] <= 0:
        notes.append("the steps do not shrink towards the bounds: τ set to 1000 × the range")
        t = np.array([1.0 / (1000.0 * span)] + list(t[1:]))
    tau = 1.0 / float(t[0])
    shape = {"response_tau": tau}
    if kind != "linear":
        shape["response_gamma"] = max(abs(float(t[1])), 1e-6)
    dp, dn = gains[0::2], gains[1::2]

    def q(w, dev, up):
        return qx(np.where(up, w, -w), t)

    scale = (1.0, 1.0)
    if model == "response_offset":
        c = float(np.clip(np.mean(dp - dn) / np.mean(dp + dn), -0.99, 0.99))
        shape["response_offset"] = c
        scale = (1.0 + c, 1.0 - c)
    return Fit(model, dp, dn, bnd.bmax, bnd.bmin, q=q, params_per_device=4,
               params_global=len(t) + (model == "response_offset"), shape=shape,
               notes=notes, bound_ok=bnd.ok, gain_scale=scale)


#: the four Wu et al. families: fitted model -> shape of its response q±(w)
FAMILIES = {"response_linear": "linear", "response_offset": "linear",
            "response_power": "power", "response_exp": "exp"}


def _family_fit(model: str, shape: str):
    def fit(steps: Steps, opts: FitOptions = DEFAULT) -> Fit:
        return _fit(steps, model, shape)
    fit.__name__ = fit.__qualname__ = f"fit_{model}"
    fit.__doc__ = f"Fit of the {model} device model (a {shape} response q±(w))."
    return fit


for _model, _shape in FAMILIES.items():
    register(_model)(_family_fit(_model, _shape))
