"""Step models of one resistive device: the response q±(w) of one pulse (PHYSICS.md §1).

A pulse moves a device by ``±Δ±·q±(w)·(1 + σξ)`` (then clipped to [b_min, b_max]); the
models differ in q±.  Every model is reduced to a *kernel code* and two per-device
parameter arrays ``p_up``, ``p_dn`` (plus a few scalars), so one compiled kernel serves
them all:

=============  ==========================================  ===========================
code           q⁺(w)  /  q⁻(w)                               p_up / p_dn
=============  ==========================================  ===========================
CONSTANT  0    1 / 1                                       – / –
LINEAR    1    max(0, 1 − p_up·w) / max(0, 1 − p_dn·w)     see below
EXP       2    max(0, 1 − A_up e^{γ_up z}) /               2a/(b_max − b_min) / –
               max(0, 1 − A_dn e^{−γ_dn z}), z = p_up·w + b
POW       3    ((b_max − w)p_up)^{p_dn} / ((w − b_min)p_up)^{p_dn}   1/(b_max − b_min) / γ
PIECEWISE 4    interp(nodes, (w − b_min)p_up)              1/(b_max − b_min) / –
RPOWER    5    max(0, 1 ∓ p_up·w)^{p_dn}                   1/τ / γ
REXP      6    max(0, (e^{γ(1 ∓ p_up·w)} − 1)/(e^{γ} − 1))  1/τ / γ
=============  ==========================================  ===========================

LINEAR covers LinearStep (p_up = γ⁺/w_max, p_dn = γ⁻/w_min), SoftBounds
(p_up = 1/b_max, p_dn = 1/b_min; Gokmen & Vlasov 2016) and the linear response
families of Wu et al. (NeurIPS 2024): q± = 1 ∓ w/τ (p_up = 1/τ, p_dn = −1/τ) and, with
the gains (1 ± c) folded into Δ±, the offset family q± = (1 ± c)(1 ∓ w/τ).

The NumPy functions here are the oracle of the kernel's step functions; exponentials
and powers go through :mod:`math` (the C library) so the oracle matches the kernel bit
for bit (NumPy's SIMD exp/pow may differ from libm in the last place).
"""
from __future__ import annotations

import math

import numpy as np

CONSTANT, LINEAR, EXP, POW, PIECEWISE, RPOWER, REXP = range(7)

MODEL_CODES = {
    "constant_step": CONSTANT, "linear_step": LINEAR, "soft_bounds": LINEAR,
    "response_linear": LINEAR, "response_offset": LINEAR, "exp_step": EXP,
    "pow_step": POW, "piecewise_step": PIECEWISE, "response_power": RPOWER,
    "response_exp": REXP,
}

_exp = np.frompyfunc(math.exp, 1, 1)
_pow = np.frompyfunc(math.pow, 2, 1)


def libm_exp(x) -> np.ndarray:
    return np.asarray(_exp(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def libm_pow(x, y) -> np.ndarray:
    return np.asarray(_pow(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)),
                      dtype=np.float64)


def model_scalars(cfg) -> np.ndarray:
    """Scalars of the kernel step function: [A_up, A_dn, γ_up, γ_dn, b]."""
    return np.array([cfg.exp_A_up, cfg.exp_A_down, cfg.exp_gamma_up, cfg.exp_gamma_down,
                      cfg.exp_b], dtype=np.float64)


def q_step(code: int, up: bool, w, p_up, p_dn, b_min, b_max, scalars, nodes) -> np.ndarray:
    """q⁺(w) (``up``) or q⁻(w) elementwise, exactly as the kernel computes it."""
    w = np.asarray(w, dtype=np.float64)
    if code == CONSTANT:
        return np.ones_like(w)
    if code == LINEAR:
        return np.maximum(1.0 - (p_up if up else p_dn) * w, 0.0)
    if code == EXP:
        z = p_up * w + scalars[4]
        if up:
            return np.maximum(1.0 - scalars[0] * libm_exp(scalars[2] * z), 0.0)
        return np.maximum(1.0 - scalars[1] * libm_exp(-scalars[3] * z), 0.0)
    if code == POW:
        base = (b_max - w) * p_up if up else (w - b_min) * p_up
        return libm_pow(np.maximum(base, 0.0), p_dn)
    if code == PIECEWISE:
        u = np.clip((w - b_min) * p_up, 0.0, 1.0)
        pos = u * (len(nodes) - 1)
        k = np.minimum(pos.astype(np.intp), len(nodes) - 2)
        f = pos - k
        return nodes[k] + f * (nodes[k + 1] - nodes[k])
    if code == RPOWER:
        base = 1.0 - p_up * w if up else 1.0 + p_up * w
        return libm_pow(np.maximum(base, 0.0), p_dn)
    if code == REXP:
        v = 1.0 - p_up * w if up else 1.0 + p_up * w
        return np.maximum((libm_exp(p_dn * v) - 1.0) / (libm_exp(p_dn) - 1.0), 0.0)
    raise ValueError(f"unknown device model code {code}")


def q_step_fast(code, up, w, p_up, p_dn, b_min, b_max, scalars, nodes) -> np.ndarray:
    """As :func:`q_step` with NumPy's own exp/pow (for analysis, not bitwise oracles)."""
    if code in (EXP, POW, RPOWER, REXP):
        w = np.asarray(w, dtype=np.float64)
        if code == EXP:
            z = p_up * w + scalars[4]
            v = 1.0 - scalars[0] * np.exp(scalars[2] * z) if up else \
                1.0 - scalars[1] * np.exp(-scalars[3] * z)
            return np.maximum(v, 0.0)
        if code == POW:
            base = (b_max - w) * p_up if up else (w - b_min) * p_up
            return np.maximum(base, 0.0) ** p_dn
        v = 1.0 - p_up * w if up else 1.0 + p_up * w
        if code == RPOWER:
            return np.maximum(v, 0.0) ** p_dn
        return np.maximum(np.expm1(p_dn * v) / np.expm1(p_dn), 0.0)
    return q_step(code, up, w, p_up, p_dn, b_min, b_max, scalars, nodes)


def nominal_granularity(cfg) -> float:
    """Granularity ε of the nominal device (PHYSICS.md §1).

    dw_min for the constant/linear/SoftBounds/response models, the up step at w = 0 for
    ExpStep, dw_min·0.5^γ for PowStep, the mean up/down step at w = 0 for PiecewiseStep.
    """
    code = MODEL_CODES[cfg.model]
    if code == EXP:
        z = 2.0 * cfg.exp_a * 0.0 / (cfg.w_max - cfg.w_min) + cfg.exp_b
        return cfg.dw_min * max(0.0, 1.0 - cfg.exp_A_up * math.exp(cfg.exp_gamma_up * z))
    if code == POW:
        return cfg.dw_min * 0.5 ** cfg.pow_gamma
    if code == PIECEWISE:
        u = min(max((0.0 - cfg.w_min) / (cfg.w_max - cfg.w_min), 0.0), 1.0)
        up = float(np.interp(u, np.linspace(0, 1, len(cfg.piecewise_up)), cfg.piecewise_up))
        dn = float(np.interp(u, np.linspace(0, 1, len(cfg.piecewise_down)), cfg.piecewise_down))
        return cfg.dw_min * 0.5 * (up + dn)
    return cfg.dw_min


def number_of_states(cfg) -> float:
    """States = (w_max − w_min)/ε (PHYSICS.md §1)."""
    eps = nominal_granularity(cfg)
    return (cfg.w_max - cfg.w_min) / eps if eps > 0 else math.inf


def linear_symmetry_point(dw_up, dw_dn, p_up, p_dn, b_min, b_max) -> np.ndarray:
    """w⋄ of the LINEAR family, where Δ⁺(1 − p_up w⋄) = Δ⁻(1 − p_dn w⋄):

        w⋄ = (Δ⁺ − Δ⁻)/(Δ⁺p_up − Δ⁻p_dn),

    which for SoftBounds (p_up = 1/b_max, p_dn = 1/b_min) is the PHYSICS.md §1 formula
    (Δ⁺ − Δ⁻)/(Δ⁺/b_max − Δ⁻/b_min).  Clipped to [b_min, b_max]; NaN when the steps
    do not depend on w.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ws = (dw_up - dw_dn) / (dw_up * p_up - dw_dn * p_dn)
    return np.clip(ws, b_min, b_max)
