"""Settings that ran without doing what they read as are warned, derived or refused
(issue 16, "Honest defaults"), and the Tiki-Taka family's pulse counts scale with the
device's number of states (the idealized-device failure of the digits sweep)."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import hwsim
from hwsim.cli.main import main
from hwsim.config.yamlio import load_yaml
from hwsim.devices import load_device
from hwsim.errors import ConfigError, ConfigWarning
from hwsim.physics.device_array import DeviceArray
from hwsim.training.algorithms.tt_checks import scaled_counts, state_factor, transfer_lr_limits
from hwsim.training.algorithms.ttv2 import TTv2Params
from hwsim.config.params import build_section

TT = "configs/digits_tiki_taka.yaml"


def _warnings(source, overrides=None):
    return hwsim.validate(source, overrides).warnings


# -- the warning mechanism ---------------------------------------------------------------
def test_validate_lists_and_the_cli_prints_warnings_as_one_line(capsys):
    lines = _warnings(TT, {"training.params.transfer_lr": 3.0})
    assert any("training.params.transfer_lr" in w for w in lines)
    assert main(["validate", TT, "--set", "training.params.transfer_lr=3"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(e.startswith("hwsim: warning: ") and "transfer_lr 3 " in e for e in err)


# -- transfer_lr of Tiki-Taka v1 past BL_max ---------------------------------------------
def test_transfer_lr_limit_is_the_hand_computed_clipping_point():
    # analog_tile: BL_max 31, reram_softbounds ε = 0.001, weight_scale 4 (digits_tiki_taka),
    # 9-bit ADC over ±12: Δ = 12/(2^8 − 1); a read at the bound 0.6
    start, every = transfer_lr_limits(31, 0.001, 4.0, 12 / 255, 0.6)
    assert every == pytest.approx(31 * 0.001 * 4 * 255 / 12)         # 2.635
    assert start == pytest.approx(31 * 0.001 * 4 / 0.6)              # 0.2067
    assert not any("params.transfer_lr:" in w for w in _warnings(TT, {"training.params.transfer_lr": 2.5}))
    assert any("past 2.64" in w for w in _warnings(TT, {"training.params.transfer_lr": 2.7}))


def test_runs_past_the_clipping_point_are_bit_identical_and_below_it_differ(tmp_path):
    def loss(tlr):
        rep = hwsim.run(TT, epochs=1, out=tmp_path / str(tlr), progress=False, formats=(),
                        overrides={"training.params.transfer_lr": tlr, "run.timing": False})
        return rep.history[-1]["train_loss"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        above = {loss(2.7), loss(10.0)}
        below = loss(2.0)
    assert len(above) == 1 and below not in above


# -- training.lr under auto_scale ----------------------------------------------------------
def test_tiki_taka_lr_under_auto_scale_is_said_to_move_only_the_biases():
    lines = _warnings(TT)
    hit = [w for w in lines if "training.lr" in w]
    assert hit and "only the digital biases" in hit[0] and "digits_tiki_taka.yaml:" in hit[0]
    off = _warnings(TT, {"training.params.auto_scale": False})
    assert not any("training.lr" in w for w in off)
    # buffered variants scale s by lr: no warning there
    assert not any("training.lr" in w for w in _warnings("configs/digits_ttv2.yaml"))


# -- response_tau against the bounds -------------------------------------------------------
def test_response_tau_is_derived_from_the_bounds_and_q_reaches_zero_there():
    dev = load_device({"model": "response_linear", "w_max": 0.5, "w_min": -0.8,
                       "w_max_dtod": 0, "w_min_dtod": 0, "dw_min_dtod": 0, "dw_min_std": 0,
                       "up_down_dtod": 0})
    assert dev.response_tau is None and dev.tau() == 0.5             # min(w_max, −w_min)
    arr = DeviceArray(dev, (1, 2), np.random.default_rng(0))
    # q⁺(w) = 1 − w/τ (Wu et al. 2024): 0 at the upper bound w = τ = 0.5, 1 at w = 0
    steps = arr.step_sizes(True, np.array([[0.5, 0.0]])) / dev.dw_min
    assert steps[0, 0] == pytest.approx(0.0, abs=1e-12) and steps[0, 1] == pytest.approx(1.0)
    # the presets' ±0.6 give the former default τ = 0.6
    assert load_device({"model": "response_power"}).tau() == 0.6


def test_response_tau_beyond_a_bound_warns_and_unipolar_bounds_need_it():
    with pytest.warns(ConfigWarning, match=r"beyond the bound w_max 0.6.*q = 0.6\b"):
        load_device({"model": "response_linear", "response_tau": 1.5})   # q⁺ = 1 − 0.6/1.5
    with pytest.raises(ConfigError, match="needs w_min < 0"):
        load_device({"model": "response_exp", "w_min": 0.0, "w_max": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        load_device({"model": "response_linear", "response_tau": 0.5})    # inside: silent


# -- pulse counts in units of the device step ------------------------------------------------
def test_counts_scale_with_the_states_over_the_reference():
    p = build_section(TTv2Params, {"fast_lr": 0.1, "n_reads": 1}, "p")
    # idealized: (0.6 − (−0.6))/1e-4 = 12000 states = 10 × 1200
    assert state_factor(p, 12000.0) == pytest.approx(10.0)
    assert scaled_counts(p, 12000.0, 64) == (10, pytest.approx(1.0))  # 0.1·10, capped at 1
    assert scaled_counts(p, 12000.0, 8) == (8, pytest.approx(1.0))    # at most the tile width
    assert scaled_counts(p, 1200.0, 64) == (1, 0.1)                   # the noisy presets
    # an ExpStep device like reram_expstep: ε = 0.001·(1 − e⁻³) at w = 0, 1.2/ε ≈ 1263 states: n_reads rounds to 1
    states = 1.2 / (0.001 * (1 - np.exp(-3)))
    n_reads, fast = scaled_counts(p, states, 64)
    assert n_reads == 1 and fast == pytest.approx(0.1 * states / 1200, rel=1e-12)
    assert scaled_counts(build_section(TTv2Params, {"reference_states": None}, "p"),
                         12000.0, 64) == (1, 0.1)
    fixed = build_section(TTv2Params, {"auto_scale": False, "fast_lr": 0.01}, "p")
    assert scaled_counts(fixed, 12000.0, 64) == (10, 0.01)            # η_A absolute: as given


def _digits(algo, device, params, tmp_path, lr=1.0):
    exp = copy.deepcopy(dict(load_yaml("configs/quickstart.yaml")))
    acc = dict(load_yaml("configs/accelerators/cttv2_tile.yaml"))
    acc.update(device=device, technology="32nm_isaac")
    exp.update(accelerator=acc, run={"seed": 0, "out": str(tmp_path / algo), "timing": False})
    exp["training"] = {"algorithm": algo, "lr": lr, "batch": 10, "epochs": 1,
                       "params": {"weight_scale": 4, **params}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        return hwsim.run(exp, progress=False, formats=(), force=True)


def test_an_ideal_many_state_device_trains_ttv2_and_noisy_presets_are_unchanged(tmp_path):
    tuned = {"auto_granularity": 20, "max_pulses": 10}          # the digits sweep's TTv2
    ideal = _digits("ttv2", "idealized", tuned, tmp_path).final_accuracy
    as_given = _digits("ttv2", "idealized", {**tuned, "reference_states": None},
                       tmp_path).final_accuracy
    # as given, C moves ≤ 10 pulses of 1e-4 per read of its column (≈ 22 reads an epoch):
    # 0.02 of its ±0.6 range, so the network stays near chance (10 classes)
    assert as_given < 0.3 and ideal > 0.6
    # a 1200-state device is at the reference: the scaling is off, bit for bit
    a = _digits("ttv2", "ecram", tuned, tmp_path).history[-1]["train_loss"]
    b = _digits("ttv2", "ecram", {**tuned, "reference_states": None},
                tmp_path).history[-1]["train_loss"]
    assert a == b


def test_a_sweep_ends_when_the_pointer_passes_the_last_column_inside_a_batch():
    """64 columns read 10 per mini-batch: after 32 batches the pointer has passed column
    63 exactly 320/64 = 5 times (hand count), so 5 sweeps — also when a batch's reads wrap
    round from 63 to 0 (before: only batches ending at column 63 counted, 1 in 32).  AGAD
    writes C only after n_s = 5 sweeps (in_chop_prob 0.2, regular)."""
    from hwsim.config.accelerator import AcceleratorConfig
    from hwsim.config.experiment import TrainingConfig
    from hwsim.devices import DeviceConfig
    from hwsim.training.algorithms import ALGORITHMS
    from hwsim.training.runner import Context
    acc = {"device": {"model": "soft_bounds"},
           "tile": {"periphery": {"chopper": {"inputs": True}, "accumulator": {}}}}
    ctx = Context(accelerator=build_section(AcceleratorConfig, acc, ""),
                  device=build_section(DeviceConfig, acc["device"], "device"), seed=0,
                  backend="cython")
    cls = ALGORITHMS["agad"]
    algo = cls(build_section(cls.Params, {"in_chop_prob": 0.2}, "p"),
               build_section(TrainingConfig, {"algorithm": "agad", "lr": 1.0}, "t"), ctx)
    algo.make_backend("fc", 8, 64, np.zeros((8, 64)))
    eng = algo.engines["fc"]
    for batch in range(32):
        eng._transfers(10)
        assert eng.sweeps == (batch + 1) * 10 // 64
    assert eng.sweeps == 5 and eng.k == 320 % 64
