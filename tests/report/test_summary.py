"""The short default report (hwsim.report.summary) and the naming of non-count
quantities in the full tables (hwsim.report.text)."""
import pytest

import hwsim
from hwsim.cli import main
from hwsim.report import build_report, render_text
from hwsim.report.summary import MAX_LINES, render_summary
from hwsim.units import format_si

TINY = "workload.dataset={name: digits, limit_train: 60, limit_test: 30}"


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return hwsim.run(epochs=2, out=out, progress=False, formats=(),
                     overrides={"workload.dataset": {"name": "digits", "limit_train": 60,
                                                     "limit_test": 30}})


def test_summary_is_short_and_has_the_headline_figures(rep):
    text = rep.summary(baseline={"accuracy": 0.5, "note": "float"})
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES
    assert lines[0].startswith("hwsim run quickstart: c-ttv2 on digits, 2 epochs of 60 samples")
    assert f"test accuracy   {100 * rep.final_accuracy:.2f} % after epoch 2" in text
    assert "float baseline  50.00 %  (float)" in text
    for figure in (format_si(rep.latency_s, "s"), format_si(rep.energy_J, "J"),
                   f"{rep.area_m2 * 1e6:.4g} mm^2"):
        assert figure in text
    # the top component by energy is listed, with its share
    top, joules = max(rep.energy_by_component.items(), key=lambda kv: kv[1])
    assert any(ln.split()[:1] == [top] and f"{100 * joules / rep.energy_J:.1f} %" in ln
               for ln in lines)
    assert "sum to 100 %" in text and "OVERLAP" not in text   # sequential schedule


def test_phase_shares_are_labelled_when_they_overlap():
    # hand-made: 3 phases of 600 + 500 + 100 ticks in 1000 ticks: 120 % (pipelined overlap)
    rep = build_report(total_ticks=1000, phase_ticks={"forward": 600, "update": 500,
                                                      "backward": 100})
    text = render_summary(rep)
    assert "OVERLAP" in text and "they sum to 120.0 %" in text
    assert "  forward    60.0 %" in text
    seq = render_summary(build_report(total_ticks=1000, phase_ticks={"a": 700, "b": 300}))
    assert "they sum to 100 %" in seq and "OVERLAP" not in seq
    idle = render_summary(build_report(total_ticks=1000, phase_ticks={"a": 700}))
    assert "30.0 % in no phase" in idle


def test_many_phases_and_components_still_fit():
    phases = {f"p{i:02d}": 10 for i in range(30)}             # 30 phases, 300 of 1000 ticks
    text = render_summary(build_report(total_ticks=1000, phase_ticks=phases))
    assert len(text.splitlines()) <= MAX_LINES
    assert "(24 more)" in text                                # 6 shown, 24 summed


def test_full_tables_name_non_counts(rep):
    text = render_text(rep.to_dict())
    assert "quantity × unit price" in text and " count " not in text.split("energy per (")[1]
    # Tile.read_cell is Σ ĝ·v̂² (fractional), named with the component's own description
    assert "Tile.read_cell: Σ ĝ·v̂² energy units of one MVM" in text
    read_cells = [r for r in rep["energy"]["by_path_action"] if r["action"] == "read_cell"]
    assert read_cells and any(not float(r["count"]).is_integer() for r in read_cells)
    pulses = [r for r in rep["energy"]["by_path_action"] if r["action"] == "pulse"]
    assert pulses and all(float(r["count"]).is_integer() for r in pulses)
    assert all(f" {int(r['count'])} " in text for r in pulses)   # counts print as integers


def test_cli_prints_the_summary_and_verbose_the_tables(tmp_path, capsys):
    args = ["run", "--epochs", "1", "--no-progress", "--set", TINY]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    body = out.split("\nwrote ")[0]
    assert len(body.splitlines()) <= MAX_LINES
    assert "float baseline" in out and "energy per (component, action)" not in out
    assert out.rstrip().splitlines()[-1].startswith("next: ")    # the quickstart's hint
    assert main(args + ["--out", str(tmp_path / "b"), "--verbose", "--no-baseline"]) == 0
    verbose = capsys.readouterr().out
    assert "energy per (component, action)" in verbose and "float baseline" not in verbose


def test_a_run_without_timing_says_so():
    text = render_summary(build_report(total_ticks=0))
    assert "not simulated" in text and "0 s" not in text
