"""The aihwkit preset family (configs/presets/aihwkit): each value against IBM aihwkit
1.1.0's source (configs/helpers.py build_config, configs/compounds.py, configs/devices.py,
parameters/io.py, parameters/training.py, parameters/mapping.py), and every experiment
validates (the dry run of one mini-batch, timing and energy included)."""
from __future__ import annotations

from pathlib import Path

import pytest

import hwsim
from hwsim.config.experiment import load_experiment
from hwsim.config.params import build_section
from hwsim.devices import load_device
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.runner import _accelerator

DIR = Path(__file__).resolve().parents[2] / "configs" / "presets" / "aihwkit"
FILES = {"sgd": "digits_sgd.yaml", "ttv2": "digits_ttv2.yaml", "c-ttv2": "digits_c_ttv2.yaml",
         "agad": "digits_agad.yaml", "mixed-precision": "digits_mp.yaml"}


def _load(algo):
    cfg = load_experiment(str(DIR / FILES[algo]))
    cls = ALGORITHMS[cfg.training.algorithm]
    return cfg, _accelerator(cfg), build_section(cls.Params, cfg.training.params, "params")


def test_device_is_soft_bounds_reference_device_defaults():
    dev = load_device(str(DIR / "soft_bounds_reference.yaml"))
    # PulsedDevice: dw_min 0.001, dtod 0.3, std 0.3 (additive: mult_noise False), bounds ±0.6
    assert (dev.model, dev.dw_min, dev.dw_min_dtod) == ("soft_bounds", 0.001, 0.3)
    assert (dev.dw_min_std, dev.dw_min_std_add) == (0.0, 0.3)
    assert (dev.w_max, dev.w_min, dev.w_max_dtod, dev.w_min_dtod) == (0.6, -0.6, 0.3, 0.3)
    assert (dev.up_down, dev.up_down_dtod, dev.ref_mean, dev.ref_std) == (0.0, 0.01, 0.0, 0.0)


@pytest.mark.parametrize("algo", list(FILES))
def test_tile_is_io_and_update_parameters_defaults(algo):
    cfg, acc, p = _load(algo)
    t = acc.tile
    assert (t.rows, t.cols) == (512, 512)                  # MappingParameter max sizes
    f, b = t.mvm_config("forward"), t.mvm_config("backward")
    assert (f.inp_res_bits, f.out_res_bits) == (7, 9)      # inp_res 1/126, out_res 1/510
    assert (f.inp_bound, f.out_bound, f.out_noise) == (1.0, 12.0, 0.06)
    assert (f.noise_management, f.bound_management) == ("abs_max", "iterative")
    assert (f.max_bm_factor, f.max_bm_res) == (1000, 0.25)
    assert f.bm_repeat_limit() == 5                         # 2^4 ≤ 0.25·126 < 2^5
    assert b.bound_management == "none"                     # BM is forward-only in aihwkit
    # build_config: desired_bl 5 for the Tiki-Taka family's gradient, 31 otherwise
    assert t.update.bl_max == (31 if algo in ("sgd", "mixed-precision") else 5)
    assert t.update.update_management and not t.update.fixed_bl
    assert p.weight_scale == 1.0 and cfg.training.lr == 0.1


def test_transfer_family_values():
    _, _, tt = _load("ttv2")
    assert (tt.fast_lr, tt.auto_scale, tt.ref_target) == (1.0, False, "zero")
    _, _, ct = _load("c-ttv2")
    assert (ct.fast_lr, ct.auto_scale, ct.in_chop_prob, ct.in_chop_random) == (0.1, True, 0.1, True)
    _, _, ag = _load("agad")
    assert (ag.fast_lr, ag.auto_scale, ag.in_chop_prob, ag.in_chop_random,
            ag.tail_weightening) == (0.1, True, 0.1, False, 5.0)
    for p in (tt, ct, ag):                # transfer_update desired_bl 1; auto_granularity 0.0
        assert (p.max_pulses, p.auto_granularity, p.transfer_every, p.n_reads,
                p.transfer_lr, p.momentum) == (1, 0.0, 1, 1, 1.0, 0.0)
    _, _, mp = _load("mixed-precision")   # MixedPrecisionCompound: bins 0, granularity ε
    assert (mp.chi_bits, mp.n_x_bins, mp.n_d_bins, mp.transfer_steps) == (0, 0, 0, 1)


@pytest.mark.parametrize("algo", list(FILES))
def test_preset_experiment_validates(algo):
    assert hwsim.validate(str(DIR / FILES[algo])).kind == "experiment"
