"""Reports say what they did not price (issue 14 item 8): zero areas are "not modelled"
and make the area total partial; actions priced at 0 J are listed with the table's
reason; the numbers themselves do not change.

Expected numbers are the table rows (configs/technology/hermes_cco.yaml extends
32nm_isaac.yaml): a CCO ADC has area 0 ("not modelled"), an 8-bit SAR ADC 1200 um²,
a DRAM 0 um² ("area: off-chip, not on the accelerator die, not modelled"),
PulseGenerator.pulse_slot 0 J ("the line driver of a fired slot is priced once as Tile
row_drive/col_drive")."""
import pytest

from hwsim.core import ActionLedger
from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.energy.estimator import reason
from hwsim.report.report import build_report
from hwsim.report.text import render_text

um2 = 1e-12


@pytest.fixture(scope="module")
def table():
    return TechnologyTable.load("hermes_cco")


COMPONENTS = {
    "chip.core0.adc": {"kind": "ADC", "attrs": {"type": "cco", "bits": 8, "count": 256}},
    "chip.core1.adc": {"kind": "ADC", "attrs": {"type": "cco", "bits": 8, "count": 256}},
    "chip.sar": {"kind": "ADC", "attrs": {"type": "sar", "bits": 8, "count": 2}},
    "chip.dram": {"kind": "DRAM", "attrs": {"technology": "lpddr4"}},
}


def test_zero_areas_are_listed_and_the_total_is_partial(table):
    rep = area_report(COMPONENTS, table)
    assert rep.total == pytest.approx(2 * 1200 * um2)            # numbers unchanged
    d = rep.to_dict()
    assert d["partial"] is True and d["total_m2"] == rep.total
    listed = {u["kind"]: u for u in d["unpriced"]}
    assert set(listed) == {"ADC", "DRAM"}
    assert listed["ADC"]["components"] == 2 and listed["ADC"]["table"] == "hermes_cco"
    assert listed["ADC"]["paths"] == ["chip.core0.adc", "chip.core1.adc"]
    assert listed["ADC"]["reason"] == ("area: HERMES gives a 4 um column pitch but no height, "
                                       "not modelled")
    assert listed["DRAM"]["reason"] == "area: off-chip, not on the accelerator die, not modelled"


def test_a_complete_area_is_not_partial(table):
    d = area_report({"chip.sar": COMPONENTS["chip.sar"]}, table).to_dict()
    assert d["partial"] is False and d["unpriced"] == []


def _ledger():
    led = ActionLedger()
    led.record("chip.t0.pg", "PulseGenerator", "pulse_slot", 40, phase="update", rng="lfsr")
    led.record("chip.t1.pg", "PulseGenerator", "pulse_slot", 2, phase="update", rng="lfsr")
    led.record("chip.t0.adc", "ADC", "convert", 10, phase="forward", bits=8, type="cco")
    return led


def test_zero_priced_actions_are_listed_with_the_reason(table):
    rep = estimate(_ledger(), table)
    assert rep.total == pytest.approx(10 * 5.12e-12)             # hermes_cco: 5.12 pJ
    d = rep.to_dict()
    assert d["partial"] is False         # the table says where pulse_slot is counted
    (u,) = d["unpriced"]
    assert (u["kind"], u["action"], u["count"], u["components"]) == ("PulseGenerator", "pulse_slot", 42, 2)
    assert u["status"] == "0 J in the table"
    assert u["reason"].startswith("pulse_slot: 0 J, the line driver of a fired slot is priced "
                                  "once as Tile row_drive/col_drive")


def test_text_report_names_what_is_missing(table):
    report = build_report(total_ticks=1000, energy=estimate(_ledger(), table),
                          area=area_report(COMPONENTS, table), name="hermes")
    text = render_text(report)
    total = next(line for line in text.splitlines() if "total area" in line)
    assert "PARTIAL, not modelled: ADC area, DRAM area" in total
    assert "not modelled: ADC area (hermes_cco table), 2 components: area: HERMES" in text
    assert ("0 J in the table: PulseGenerator.pulse_slot (hermes_cco table), 2 components, "
            "42 actions") in text
    assert "TOTAL (partial)" in text
    energy = next(line for line in text.splitlines() if "total energy" in line)
    assert "PARTIAL" not in energy


@pytest.mark.parametrize("source, action, expect", [
    ("a: x; area: not modelled", "area", "area: not modelled"),
    ("read: 0 J; read_cell: derived", "read", "read: 0 J"),
    ("SRAM; area not in the table", "area", "area not in the table"),
    ("one clause only", "area", "one clause only"),
])
def test_reason_picks_the_clause(source, action, expect):
    assert reason(source, action) == expect


def test_sweep_breakdown_names_the_unmodelled_areas(table):
    from hwsim.sweep.evaluate import summarize
    report = build_report(total_ticks=1000, energy=estimate(_ledger(), table),
                          area=area_report(COMPONENTS, table), samples=10, name="hermes")
    metrics, breakdown = summarize(report)
    assert metrics["area"] == pytest.approx(2 * 1200 * um2)
    assert breakdown["area_not_modelled"] == ["ADC", "DRAM"]
