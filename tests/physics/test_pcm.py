"""PCM pair: step model, refresh rule, programming noise, drift power law, read noise."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.config.params import replace
from hwsim.config.periphery import PCMConfig
from hwsim.physics.pcm import PCMArray, draw_nu, prog_noise_std

CFG = PCMConfig()
NOISELESS = replace(CFG, dw_min_std=0.0, dw_min_std_add=0.0, dw_min_std_slope=0.0)


def step_oracle(w, cfg):
    """One noiseless pulse, scalar reference of PHYSICS.md §1 ExpStep (A_up, γ, a, b)."""
    z = 2 * cfg.exp_a * w / cfg.w_span + cfg.exp_b
    return min(w + cfg.dw_min * max(0.0, 1 - cfg.exp_A_up * np.exp(cfg.exp_gamma_up * z)),
               cfg.w_span)


def test_create_is_reset_state():
    a = PCMArray.create(CFG, (3, 4), np.random.default_rng(0))
    assert a.shape == (3, 4) and np.all(a.weights() == 0) and np.all(a.programming_events == 0)
    assert a.conductances().shape == (2, 3, 4)


def test_noiseless_pulses_follow_step_model_per_side():
    rng = np.random.default_rng(1)
    a = PCMArray.create(NOISELESS, (2, 3), rng)
    n_pos = np.array([[0, 1, 5], [200, 2, 0]])
    n_neg = np.array([[3, 0, 0], [1, 0, 7]])
    assert a.program_pulses(n_pos, n_neg, rng) == n_pos.sum() + n_neg.sum()
    for side, n in ((0, n_pos), (1, n_neg)):
        for idx in np.ndindex(n.shape):
            w = 0.0
            for _ in range(n[idx]):
                w = step_oracle(w, NOISELESS)
            assert a.g_prog[side][idx] == pytest.approx(w / NOISELESS.w_span, rel=1e-13)
    np.testing.assert_array_equal(a.programming_events, np.stack([n_pos, n_neg]))
    np.testing.assert_allclose(a.weights(), a.g_prog[0] - a.g_prog[1])
    assert a.g_prog[0][1, 0] == 1.0                      # 200 pulses saturate at g_max


def test_step_noise_statistics():
    rng = np.random.default_rng(2)
    a = PCMArray.create(CFG, (200, 100), rng)
    a.program_pulses(np.ones((200, 100), int), np.zeros((200, 100), int), rng)
    w = a.g_prog[0] * CFG.w_span
    # one pulse from w = 0: Δ(0)(1 + 0.6 ξ₁) + Δ⁺·0.042 ξ₂, then clipped at 0
    mu = step_oracle(0.0, CFG)
    sd = np.hypot(0.6 * mu, CFG.dw_min * 0.042)
    cdf = 0.5 * (1 + math.erf(-mu / sd / math.sqrt(2)))           # P(raw step < 0)
    pdf = math.exp(-0.5 * (mu / sd) ** 2) / math.sqrt(2 * math.pi)
    assert np.mean(w == 0.0) == pytest.approx(cdf, abs=0.005)
    assert np.mean(w) == pytest.approx(mu * (1 - cdf) + sd * pdf, rel=0.01)   # E[max(X, 0)]


@pytest.mark.parametrize("gp, gn, refresh", [
    (0.76, 0.26, True), (0.26, 0.76, True), (0.75, 0.26, False), (0.76, 0.25, False),
    (0.9, 0.1, False), (0.5, 0.5, False), (1.0, 1.0, True)])
def test_refresh_condition_exact(gp, gn, refresh):
    cfg = replace(CFG, prog_noise_scale=0.0)
    rng = np.random.default_rng(3)
    a = PCMArray.from_conductances(cfg, [[gp, 0.0]], [[gn, 0.0]], rng)
    assert a.needs_refresh().tolist() == [[refresh, False]]
    events = a.refresh(rng)
    if not refresh:
        assert events == 0 and a.g_prog[0, 0, 0] == gp
        return
    diff = gp - gn
    assert events == 2 + (diff != 0)
    assert a.g_prog[0, 0, 0] == pytest.approx(max(diff, 0.0), abs=1e-15)
    assert a.g_prog[1, 0, 0] == pytest.approx(max(-diff, 0.0), abs=1e-15)
    assert a.weights()[0, 0] == pytest.approx(diff, abs=1e-15)
    assert a.programming_events[:, 0, 0].tolist() == [1 + (diff > 0), 1 + (diff < 0)]
    assert a.refreshed_weights == 1 and not a.needs_refresh().any()


def test_programming_noise_std():
    rng = np.random.default_rng(4)
    n = 20000
    a = PCMArray.from_conductances(CFG, np.full((1, n), 0.9), np.full((1, n), 0.4), rng)
    a.refresh(rng)
    got = a.g_prog[0, 0]
    expect = prog_noise_std(np.array(0.5), CFG)       # (0.26348 + 1.965/2 − 1.1731/4)/25
    assert expect == pytest.approx((0.26348 + 0.9825 - 0.293275) / 25)
    assert np.std(got) == pytest.approx(expect, rel=0.03)
    assert np.mean(got) == pytest.approx(0.5, abs=3 * expect / np.sqrt(n))


def test_drift_power_law_slope_is_minus_nu():
    cfg = replace(CFG, read_noise=False)
    rng = np.random.default_rng(5)
    a = PCMArray.from_conductances(cfg, rng.uniform(0.1, 1, (4, 5)), rng.uniform(0.1, 1, (4, 5)),
                                   rng)
    t = np.logspace(np.log10(2 * cfg.t0), 8, 7)
    g = np.stack([a.conductance_hat(ti) for ti in t])           # (T, 2, 4, 5)
    slope = np.polyfit(np.log(t), np.log(g.reshape(len(t), -1)), 1)[0]
    np.testing.assert_allclose(slope, -a.nu.ravel(), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(a.conductance_hat(cfg.t0 / 2), a.g_prog)   # none before t0


def test_nu_statistics():
    rng = np.random.default_rng(6)
    for g, mu, sd in ((0.5, -0.0155 * np.log(0.5) + 0.0244, -0.0125 * np.log(0.5) - 0.0059),
                      (1.0, 0.049, 0.008), (0.01, 0.0958, 0.045)):
        nu = draw_nu(np.full(40000, g), rng)
        assert np.mean(nu) == pytest.approx(max(mu, 0.049), abs=0.001)
        assert np.std(nu) == pytest.approx(min(max(sd, 0.008), 0.045), rel=0.05)


def test_read_noise_std():
    cfg = replace(CFG, drift=False)
    rng = np.random.default_rng(7)
    a = PCMArray.from_conductances(cfg, np.full((100, 100), 0.4), np.zeros((100, 100)), rng)
    t = 1e3
    g = a.conductance_hat(t, rng=rng)[0]
    qs = min(0.0088 / 0.4 ** 0.65, 0.2)
    expect = 0.4 * qs * np.sqrt(np.log((t + 250e-9) / (2 * 250e-9)))
    assert np.std(g) == pytest.approx(expect, rel=0.03)
    np.testing.assert_array_equal(a.conductance_hat(t), a.g_prog)     # no rng: no noise


def test_drift_to_and_pulses_start_from_drifted_state():
    rng = np.random.default_rng(8)
    cfg = replace(NOISELESS, read_noise=False)
    a = PCMArray.create(cfg, (1, 1), rng)
    a.program_pulses([[5]], [[0]], rng)
    w0 = a.weights()[0, 0]
    wd = a.drift_to(1e4)[0, 0]
    assert wd == pytest.approx(w0 * (1e4 / cfg.t0) ** (-a.nu[0, 0, 0]))
    a.program_pulses([[1]], [[0]], rng)
    assert a.g_prog[0, 0, 0] == pytest.approx(step_oracle(wd * cfg.w_span, cfg) / cfg.w_span)
    assert a.t_prog[0, 0, 0] == 1e4
    with pytest.raises(ValueError, match="clock"):
        a.weights(t=10.0)


@pytest.mark.parametrize("n_pos, match", [
    (np.full((2, 2), -1), "≥ 0"), (np.ones((2, 2)) * 1.5, "integer"), (np.ones((3, 2), int), "shape")])
def test_bad_pulse_counts(n_pos, match):
    a = PCMArray.create(CFG, (2, 2), np.random.default_rng(0))
    with pytest.raises(ValueError, match=match):
        a.program_pulses(n_pos, np.zeros((2, 2), int), np.random.default_rng(0))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 31), st.lists(st.tuples(st.integers(0, 12), st.floats(0, 1e6)),
                                         min_size=1, max_size=5))
def test_property_conductances_stay_in_range(seed, steps):
    rng = np.random.default_rng(seed)
    a = PCMArray.create(CFG, (6, 5), rng)
    t = 0.0
    for n_max, dt in steps:
        a.program_pulses(rng.integers(0, n_max + 1, (6, 5)), rng.integers(0, n_max + 1, (6, 5)),
                         rng)
        a.refresh(rng)
        t += dt
        a.drift_to(t)
        for g in (a.conductances(), a.conductances(t + 5.0, rng=rng)):
            assert np.all(g >= 0.0) and np.all(g <= CFG.g_max)
        assert np.all(np.abs(a.weights(rng=rng)) <= 1.0)
        assert np.all((a.g_prog >= 0) & (a.g_prog <= 1))
