"""A fitted device trains like the device that made its data (digits MLP, c-TTv2).

Pulse responses of the reram_softbounds preset (32 devices × 500 up/500 down, hwsim's
own physics) → ``device fit --model auto`` → the digits c-TTv2 experiment of
configs/digits_c_ttv2.yaml (MLP 64-32-10, 5 epochs, seed 0), once with the preset and
once with the fitted YAML.  Measured: preset 0.836, fitted 0.830 (README "Use your own
device" has three seeds).  About 7 s."""
from pathlib import Path

import pytest

from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section, replace
from hwsim.fit import device_sim
from hwsim.fit.command import fit_pulses
from hwsim.training.runner import run_experiment

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 5
ACC = (ROOT / "configs" / "accelerators" / "cttv2_tile.yaml").read_text()


def _accuracy(tmp_path, device: str) -> float:
    acc = tmp_path / f"acc_{Path(device).stem}.yaml"
    acc.write_text(ACC.replace("device: reram_softbounds", f"device: {device}")
                   .replace("technology: 32nm_isaac",
                            f"technology: {ROOT / 'configs' / 'technology' / '32nm_isaac.yaml'}"))
    data = {"name": "t", "accelerator": str(acc),
            "workload": {"dataset": "digits",
                         "network": [{"linear": 32, "activation": "sigmoid"}, {"linear": 10}]},
            "training": {"algorithm": "c-ttv2", "lr": 1.0, "batch": 10, "epochs": EPOCHS,
                         "params": {"weight_scale": 4, "in_chop_prob": 0.1, "fast_lr": 0.1,
                                    "auto_granularity": 20, "max_pulses": 10}},
            "run": {"seed": 0, "out": str(tmp_path / Path(device).stem), "progress": False}}
    cfg = replace(build_section(ExperimentConfig, data), file=str(tmp_path / "x.yaml"))
    return run_experiment(cfg).history[-1]["test_accuracy"]


def test_fitted_device_trains_like_its_preset(tmp_path):
    preset = device_sim.load("reram_softbounds")
    text, values, _ = fit_pulses(device_sim.simulate(preset, 32, 1, 500, seed=1), "auto")
    assert values["model"] == "soft_bounds"
    (tmp_path / "fitted.yaml").write_text(text)
    a_preset = _accuracy(tmp_path, "reram_softbounds")
    a_fit = _accuracy(tmp_path, str(tmp_path / "fitted.yaml"))
    assert a_preset > 0.5
    assert abs(a_fit - a_preset) < 0.05, (a_preset, a_fit)
