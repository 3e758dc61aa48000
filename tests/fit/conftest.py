"""Fixtures of the fit tests. Generating devices of the recovery tests: hwsim presets with a coarser step, so that
200 pulses sweep a device between its bounds (8 devices × 3 cycles × 200 pulses)."""
import pytest

from hwsim.devices import derive as replace    # model changes convert the section
from hwsim.fit import device_sim


def case(model: str):
    soft = device_sim.load("reram_softbounds")
    if model == "constant_step":          # Gokmen & Vlasov RPU spec, 12× the step, +5 % up
        return replace(device_sim.load("gokmen_vlasov"), dw_min=0.012, up_down=0.05,
                       dw_min_dtod=0.2, w_min_dtod=0.1, w_max_dtod=0.1)
    if model == "linear_step":            # ECRAM preset with 30 %/20 % slopes, 30 % noise
        return replace(device_sim.load("ecram"), dw_min=0.008, linear_gamma_up=0.3,
                       linear_gamma_down=0.2, dw_min_std=0.3, up_down=-0.05)
    if model == "soft_bounds":
        return replace(soft, dw_min=0.008, up_down=0.05)
    if model == "exp_step":               # steps vanish just beyond the bounds (A < e^-γ)
        return replace(device_sim.load("reram_expstep"), dw_min=0.01, dw_min_dtod=0.15,
                       w_max_dtod=0.05,
                       w_min_dtod=0.05, exp_A_up=0.03, exp_A_down=0.03)
    if model == "pow_step":
        return replace(soft, model="pow_step", dw_min=0.03, pow_gamma=2.0)
    raise KeyError(model)





@pytest.fixture(scope="session")
def fit_case():
    """``fit_case(model)``: the generating device config of a recovery test."""
    return case


def response_case(model: str):
    """Response-function devices (Wu et al. 2024): soft-bounds preset spreads and noise."""
    base = replace(device_sim.load("reram_softbounds"), model=model, dw_min=0.01,
                   w_max_dtod=0.1, w_min_dtod=0.1, dw_min_dtod=0.2)
    if model == "response_linear":
        return replace(base, response_tau=1.5)
    if model == "response_power":
        return replace(base, response_tau=0.8, response_gamma=2.0, dw_min=0.015)
    if model == "response_exp":
        return replace(base, response_tau=0.8, response_gamma=3.0, dw_min=0.02)
    if model == "response_offset":
        return replace(base, response_tau=1.5, response_offset=0.2)
    raise KeyError(model)


@pytest.fixture(scope="session")
def fit_response_case():
    return response_case
