"""The user's path: shipped sample CSV → ``hwsim device fit`` → a YAML that an
accelerator loads as ``device: fitted.yaml`` → plots; conductance input; piecewise tables."""
from pathlib import Path

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.devices import load_device
from hwsim.fit import device_sim
from hwsim.fit.command import fit_pulses, parse_conductance
from hwsim.fit.pulse_data import read_pulse_csv, write_pulse_csv
from hwsim.fit.writer import check

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "devices" / "sample_pulses.csv"
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"


def test_sample_is_small_and_says_where_it_comes_from():
    assert SAMPLE.stat().st_size < 200_000
    head = SAMPLE.read_text().splitlines()[:3]
    assert "reram_softbounds" in head[0] and "not a measurement" in head[0]


def test_fit_sample_then_validate_an_accelerator_using_it(tmp_path, capsys):
    out = tmp_path / "fitted.yaml"
    assert main(["device", "fit", str(SAMPLE), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "model soft_bounds" in printed and "wrote" in printed
    text = out.read_text()
    assert "# command: hwsim device fit" in text and "RMSE" in text and "BIC" in text
    cfg = load_device(str(out))
    assert cfg.model == "soft_bounds"
    # the sample's 8 devices (seed 0) have mean gain 1.106 and mean b_max 0.634
    # (DeviceArray draws, see examples/devices/make_sample_pulses.py)
    assert cfg.dw_min == pytest.approx(0.00111, rel=0.03)
    assert cfg.dw_min_std == pytest.approx(0.3, rel=0.05)
    acc = tmp_path / "acc.yaml"
    acc.write_text(ACC.read_text().replace("device: reram_softbounds", "device: fitted.yaml"))
    assert main(["validate", str(acc)]) == 0
    assert "valid accelerator" in capsys.readouterr().out


def test_conductance_values_map_onto_weights(tmp_path):
    # G = 1 uS + (w + 1)/2 · 29 uS: the inverse of the documented map
    data = device_sim.simulate(device_sim.load("idealized"), 2, 1, 50)
    g = 1e-6 + (data.value + 1.0) / 2.0 * 29e-6
    conv = type(data)(**{**data.__dict__, "value": g})
    write_pulse_csv(str(tmp_path / "g.csv"), conv, digits=12)
    back = read_pulse_csv(str(tmp_path / "g.csv"), parse_conductance("1 uS:30 uS"))
    np.testing.assert_allclose(back.value, data.value, atol=1e-6)
    assert parse_conductance("1 uS:30 uS") == (1e-6, 3e-5)


@pytest.mark.parametrize("dtod", [False, True])
def test_piecewise_table_reproduces_another_models_pulse_response(fit_case, dtod):
    """Tables fitted to exp_step data (8 devices × 3 × 200, 30 % noise) reproduce the
    noise-free pulse response of the nominal exp_step device (3 × 200 up/down).  Without
    spreads the table error alone: RMS 0.1–0.3 %, max < 0.8 % of the range (seeds 0–2;
    soft_bounds, pow_step, linear_step data alike); with spreads the 8 devices' mean
    differs from the population's, RMS 0.4–1.9 % (seeds 0–2)."""
    cfg = fit_case("exp_step")
    gen = cfg if dtod else device_sim.nominal(cfg, noise=True)
    text, values, _ = fit_pulses(device_sim.simulate(gen, 8, 3, 200, seed=0), "piecewise_step")
    fitted = check(text, "<fitted>")
    ref = device_sim.simulate(device_sim.nominal(cfg), 1, 3, 200).value
    got = device_sim.simulate(device_sim.nominal(fitted), 1, 3, 200).value
    err = (got - ref) / (cfg.w_max - cfg.w_min)
    rms, worst = np.sqrt(np.mean(err ** 2)), np.max(np.abs(err))
    assert (rms, worst) < ((0.05, 0.08) if dtod else (0.01, 0.02)), (rms, worst)
    up, down = np.array(values["piecewise_up"]), np.array(values["piecewise_down"])
    assert len(up) == len(down) == 11 and np.all(np.diff(up) <= 0) and np.all(np.diff(down) >= 0)
    assert max(up.max(), down.max()) == pytest.approx(1.0)       # nodes = table / dw_min


def test_device_plot_and_fit_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "fitted.yaml"
    assert main(["device", "fit", str(SAMPLE), "-o", str(out), "--plot",
                 str(tmp_path / "fit.png")]) == 0
    assert main(["device", "plot", str(out), "-o", str(tmp_path / "resp.png"), "--data",
                 str(SAMPLE)]) == 0
    printed = capsys.readouterr().out
    assert "states" in printed and "symmetry point" in printed and "dynamic range" in printed
    for name in ("fit.png", "resp.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_device_statistics_of_a_preset():
    # reram_softbounds: 1.2/0.001 = 1200 states, symmetric steps, w⋄ = 0 (PHYSICS.md §1)
    s = device_sim.statistics(load_device("reram_softbounds"))
    assert s["states"] == pytest.approx(1200) and s["symmetry_point"] == pytest.approx(0.0)
    assert s["asymmetry"] == 0.0 and s["dynamic_range"] == pytest.approx(1.2)
