"""The pictures of a run (hwsim.report.plots through Report.plot_* and --plots): each
PNG is written, and each figure has the axes, labels and bar values the report holds
(the expected numbers are the report's own breakdowns, which test_api checks against
the ledger: bars must redraw them, not recompute them)."""
import math

import pytest

import hwsim
from hwsim.cli import main
from hwsim.report.plots import MAX_COMPONENTS, si_scale

pytest.importorskip("matplotlib")
TINY = {"workload.dataset": {"name": "digits", "limit_train": 60, "limit_test": 30}}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return hwsim.run(epochs=2, out=out, overrides=TINY, progress=False, formats=())


def _bar_widths(ax):
    return {t.get_text(): p.get_width() for t, p in zip(ax.get_yticklabels(), ax.patches)}


def test_si_scale_picks_the_prefix():
    assert si_scale([3.2e-9, 1e-10], "J") == (1e-9, "nJ")          # 3.2 nJ
    assert si_scale([0.9359e-6], "m²", square=True) == (1e-6, "mm²")  # 0.94 mm²
    assert si_scale([1.6e-9], "m²", square=True) == (1e-12, "µm²")  # 1600 µm²
    assert si_scale([0.5], "s") == (1e-3, "ms")


def test_training_curves(rep):
    fig = rep.plot_training()
    acc, loss = fig.axes
    assert acc.get_xlabel() == "epoch" and acc.get_ylabel() == "test accuracy [%]"
    assert loss.get_ylabel() == "loss (cross-entropy)" and "training curves" in acc.get_title()
    line = acc.get_lines()[0]
    assert list(line.get_xdata()) == [1, 2]
    assert list(line.get_ydata()) == pytest.approx([100 * a for a in rep.accuracy])
    assert [ln.get_label() for ln in loss.get_lines()] == ["train loss", "test loss"]
    assert list(loss.get_lines()[1].get_ydata()) == [h["test_loss"] for h in rep.history]


def test_energy_stacks_sum_to_the_phase_totals(rep):
    fig = rep.plot_energy()
    left, right = fig.axes
    factor, unit = si_scale(list(rep.energy_by_phase.values()) + [rep.energy_J], "J")
    assert left.get_ylabel() == f"energy [{unit}]" and left.get_xlabel() == "phase"
    assert right.get_xlabel() == f"energy [{unit}]"
    # each phase's stack (bars of all kinds at one x) adds up to energy_by_phase
    phases = [t.get_text() for t in left.get_xticklabels()]
    assert phases == sorted(rep.energy_by_phase)
    stacks = [0.0] * len(phases)
    for patch in left.patches:
        stacks[round(patch.get_x() + patch.get_width() / 2)] += patch.get_height()
    for p, h in zip(phases, stacks):
        assert h * factor == pytest.approx(rep.energy_by_phase[p], rel=1e-9)
    kinds = _bar_widths(right)
    assert math.fsum(kinds.values()) * factor == pytest.approx(rep.energy_J, rel=1e-9)
    assert set(kinds) == {r["kind"] for r in rep["energy"]["rows"]}


def test_area_bars_are_the_area_by_kind(rep):
    ax = rep.plot_area().axes[0]
    factor, unit = si_scale(list(rep.area_by_kind.values()), "m²", square=True)
    assert ax.get_xlabel() == f"area [{unit}]" and "area per kind" in ax.get_title()
    for kind, w in _bar_widths(ax).items():
        assert w * factor == pytest.approx(rep.area_by_kind[kind], rel=1e-12)


def test_latency_bars_and_the_overlap_label(rep, tmp_path):
    ax = rep.plot_latency().axes[0]
    factor, unit = si_scale(list(rep.latency_by_phase.values()) + [rep.latency_s], "s")
    assert ax.get_xlabel() == f"simulated time [{unit}]" and "overlap" not in ax.get_title()
    for phase, w in _bar_widths(ax).items():
        assert w * factor == pytest.approx(rep.latency_by_phase[phase], rel=1e-12)
    piped = hwsim.run(epochs=1, out=tmp_path, progress=False, formats=(), overrides={
        **TINY, "accelerator.engine.schedule": "pipelined"})
    assert sum(piped.latency_by_phase.values()) > piped.latency_s   # phases overlap
    assert "phases overlap (pipelined)" in piped.plot_latency().axes[0].get_title()


def test_utilization_bars_are_the_busiest_components(rep):
    ax = rep.plot_utilization().axes[0]
    bars = _bar_widths(ax)
    assert ax.get_xlabel().startswith("utilisation")
    assert ax.get_xlim() == (0, pytest.approx(min(100, 1.25 * max(bars.values()))))
    busy = {p: 100 * u for p, u in rep.utilization.items() if rep["latency"]["components"][p]["busy_ticks"]}
    assert len(bars) == min(MAX_COMPONENTS, len(busy))
    for path, w in bars.items():
        assert w == pytest.approx(busy[path])
    few = rep.plot_utilization(limit=3).axes[0]
    assert [t.get_text() for t in few.get_yticklabels()] == \
        sorted(busy, key=lambda p: (busy[p], p))[-3:]
    assert "the 3 busiest of" in few.get_title()


def test_run_and_replay_write_every_png(rep, tmp_path, capsys):
    assert main(["run", "--epochs", "1", "--no-progress", "--no-baseline", "--out",
                 str(tmp_path / "r"), "--set", "workload.dataset={name: digits, limit_train: 60, "
                 "limit_test: 30}", "--trace", str(tmp_path / "t.jsonl.gz"),
                 "--plots", str(tmp_path / "p")]) == 0
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert names == ["area.png", "energy.png", "latency.png", "training.png", "utilization.png"]
    for p in (tmp_path / "p").iterdir():
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 5000
    assert str(tmp_path / "p" / "training.png") in capsys.readouterr().out
    assert main(["replay", "accelerators/cttv2_tile.yaml", str(tmp_path / "t.jsonl.gz"),
                 "--no-progress", "-o", str(tmp_path / "rr"), "--plots", str(tmp_path / "q")]) == 0
    # a replay has no training curves; every other picture is there
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == \
        ["area.png", "energy.png", "latency.png", "utilization.png"]
