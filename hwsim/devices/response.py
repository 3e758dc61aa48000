"""Response-function families of Wu et al., "Towards exact gradient-based training on
analog in-memory computing", NeurIPS 2024 (PHYSICS.md §1): a pulse moves w by
±dw_min·q±(w) with

    response_linear   q± = 1 ∓ w/τ                         (LINEAR kernel, p± = ±1/τ)
    response_offset   q± = (1 ± c)(1 ∓ w/τ)                (gains (1 ± c) folded into Δ±)
    response_power    q± = max(0, 1 ∓ w/τ)^γ               (RPOWER kernel, p_up = 1/τ, p_dn = γ)
    response_exp      q± = (e^{γ(1 ∓ w/τ)} − 1)/(e^{γ} − 1)  (REXP kernel)

One family, one module: the four share τ and the citation.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param
from hwsim.devices.base import (DeviceConfig, KernelCode, device_model, device_section,
                                libm_exp, libm_pow, model_param, real)
from hwsim.devices.linear_step import LinearFamily


@device_section
class _Response(DeviceConfig):
    """Response-function family (Wu et al. 2024)"""
    response_tau: float = param(0.6, desc="response scale τ (q± = f(1 ∓ w/τ))", lo=0, lo_open=True)

    def _v(self, up, w, p_up):
        w = real(w)
        return 1.0 - p_up * w if up else 1.0 + p_up * w


@device_model
class ResponseLinear(LinearFamily, _Response):
    """response_linear: q± = 1 ∓ w/τ (Wu et al., NeurIPS 2024)"""
    model: str = model_param("response_linear")

    def device_params(self, arr, xi):
        return np.full(arr.shape, 1.0 / self.response_tau), \
            np.full(arr.shape, -1.0 / self.response_tau)


@device_model
class ResponseOffset(ResponseLinear):
    """response_offset: q± = (1 ± c)(1 ∓ w/τ), an offset symmetry point (Wu et al. 2024)"""
    model: str = model_param("response_offset")
    response_offset: float = param(0.0, desc="offset c of response_offset: q± = (1±c)(1∓w/τ)",
                                   lo=-0.99, hi=0.99)

    def device_params(self, arr, xi):
        arr.dw_up = arr.dw_up * (1.0 + self.response_offset)
        arr.dw_down = arr.dw_down * (1.0 - self.response_offset)
        return super().device_params(arr, xi)


@device_section
class _Shaped(_Response):
    """Response family with an exponent γ"""
    response_gamma: float = param(1.0, desc="exponent γ of response_power / response_exp", lo=0,
                                  lo_open=True)

    def device_params(self, arr, xi):
        return np.full(arr.shape, 1.0 / self.response_tau), \
            np.full(arr.shape, self.response_gamma)


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
