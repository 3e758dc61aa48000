"""Response-function families of Wu et al., "Towards exact gradient-based training on
analog in-memory computing", NeurIPS 2024 (PHYSICS.md §1): a pulse moves w by
±dw_min·q±(w) with

    response_linear   q± = 1 ∓ w/τ                         (LINEAR kernel, p± = ±1/τ)
    response_offset   q± = (1 ± c)(1 ∓ w/τ)                (gains (1 ± c) folded into Δ±)
    response_power    q± = max(0, 1 ∓ w/τ)^γ               (RPOWER kernel, p_up = 1/τ, p_dn = γ)
    response_exp      q± = (e^{γ(1 ∓ w/τ)} − 1)/(e^{γ} − 1)  (REXP kernel)

One family, one module: the four share τ and the citation.  q± reaches 0 at w = ±τ,
where the response saturates; the device's bounds ``w_max``/``w_min`` clip too, so τ left
out (null) is derived as ``τ = min(w_max, −w_min)``: q⁺ reaches 0 at the nearer bound
(at both for symmetric bounds, the presets' ±0.6 giving the former default 0.6).  An
explicit τ beyond a bound is allowed (a fitted device whose steps shrink too little to
saturate inside its range, ``hwsim device fit``) but warned: the bound clips where q± is
still 1 − w_bound/τ.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import warn
from hwsim.devices.base import (DeviceConfig, KernelCode, device_model, device_section,
                                libm_exp, libm_pow, model_param, real)
from hwsim.devices.linear_step import LinearFamily

_WU = "Wu et al., NeurIPS 2024 (the form)"


@device_section
class _Response(DeviceConfig):
    """Response-function family (Wu et al. 2024)"""
    response_tau: float | None = param(
        None, lo=0, lo_open=True, cite="Wu et al., NeurIPS 2024",
        desc="response scale τ (q± = f(1 ∓ w/τ), 0 at w = ±τ); null: τ = min(w_max, −w_min), "
             "the response saturating at the (nearer) bound")

    def tau(self) -> float:
        """τ: ``response_tau``, or the derived min(w_max, −w_min) when it is null."""
        if self.response_tau is not None:
            return float(self.response_tau)
        return float(min(self.w_max, -self.w_min))

    def __post_build__(self, data, path, ctx):
        super().__post_build__(data, path, ctx)
        key = f"{path}.response_tau" if path else "response_tau"
        if self.response_tau is None:
            if self.w_min >= 0:
                self._fail(data, path, "w_min", f"{self.model} derives τ = min(w_max, −w_min) "
                           f"and needs w_min < 0 (got {self.w_min}): set response_tau")
            return
        for name, bound in (("w_max", self.w_max), ("w_min", -self.w_min)):
            if bound < self.response_tau:
                q = 1.0 - bound / self.response_tau
                warn(f"response_tau {self.response_tau:g} is beyond the bound {name} "
                     f"{getattr(self, name):g}: the bound clips where q = {q:.3g}, before the "
                     f"response reaches 0 at ±τ (leave response_tau out to derive "
                     f"τ = min(w_max, −w_min) = {min(self.w_max, -self.w_min):g})",
                     file=file_of(data), line=line_of(data, "response_tau"), key=key)

    def _v(self, up, w, p_up):
        w = real(w)
        return 1.0 - p_up * w if up else 1.0 + p_up * w


@device_model
class ResponseLinear(LinearFamily, _Response):
    """response_linear: q± = 1 ∓ w/τ (Wu et al., NeurIPS 2024)"""
    model: str = model_param("response_linear")

    def device_params(self, arr, xi):
        return np.full(arr.shape, 1.0 / self.tau()), np.full(arr.shape, -1.0 / self.tau())


@device_model
class ResponseOffset(ResponseLinear):
    """response_offset: q± = (1 ± c)(1 ∓ w/τ), an offset symmetry point (Wu et al. 2024)"""
    model: str = model_param("response_offset")
    response_offset: float = param(0.0, cite=_WU + "; 0 = symmetric: hwsim's default",
                                   desc="offset c of response_offset: q± = (1±c)(1∓w/τ)",
                                   lo=-0.99, hi=0.99)

    def device_params(self, arr, xi):
        arr.dw_up = arr.dw_up * (1.0 + self.response_offset)
        arr.dw_down = arr.dw_down * (1.0 - self.response_offset)
        return super().device_params(arr, xi)


@device_section
class _Shaped(_Response):
    """Response family with an exponent γ"""
    response_gamma: float = param(1.0, cite=_WU + "; 1: hwsim's default",
                                  desc="exponent γ of response_power / response_exp", lo=0,
                                  lo_open=True)

    def device_params(self, arr, xi):
        return np.full(arr.shape, 1.0 / self.tau()), np.full(arr.shape, self.response_gamma)


@device_model
class ResponsePower(_Shaped):
    """response_power: q± = max(0, 1 ∓ w/τ)^γ (Wu et al., NeurIPS 2024)"""
    model: str = model_param("response_power")

    kernel = KernelCode.RPOWER

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return libm_pow(np.maximum(self._v(up, w, p_up), 0.0), p_dn)

    def q_fast(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return np.maximum(self._v(up, w, p_up), 0.0) ** p_dn


@device_model
class ResponseExp(_Shaped):
    """response_exp: q± = (e^{γ(1 ∓ w/τ)} − 1)/(e^γ − 1) (Wu et al., NeurIPS 2024)"""
    model: str = model_param("response_exp")

    kernel = KernelCode.REXP

    def q(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        v = self._v(up, w, p_up)
        return np.maximum((libm_exp(p_dn * v) - 1.0) / (libm_exp(p_dn) - 1.0), 0.0)

    def q_fast(self, up, w, p_up, p_dn, b_min, b_max, scalars, nodes):
        return np.maximum(np.expm1(p_dn * self._v(up, w, p_up)) / np.expm1(p_dn), 0.0)
