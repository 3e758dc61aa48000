"""Timelines: Chrome trace events and VCD busy signals from component busy intervals."""
import json
from types import SimpleNamespace

from hwsim.report.timeline import chrome_trace, merged_busy, vcd_text


def _comps():
    return {"chip.tile0.adc": SimpleNamespace(timeline=[(0, 800, "forward", "fc1", "forward"),
                                                        (800, 1600, "forward", "fc1", "forward"),
                                                        (4000, 5000, "read_column", "fc1", "transfer")]),
            "chip.tile0.dac": SimpleNamespace(timeline=[(0, 2000, "forward", "fc1", "forward")]),
            "chip.idle": SimpleNamespace(timeline=[])}


def test_merged_busy_unions_touching_and_overlapping_intervals():
    assert merged_busy([(0, 5, "", "", ""), (5, 7, "", "", ""), (10, 12, "", "", ""),
                        (11, 20, "", "", "")]) == [(0, 7), (10, 20)]


def test_chrome_trace_has_one_event_per_interval_in_microseconds():
    t = chrome_trace(_comps())
    xs = [e for e in t["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == 4
    assert sorted(e["dur"] for e in xs) == [0.0008, 0.0008, 0.001, 0.002]
    names = [e["args"]["name"] for e in t["traceEvents"] if e["ph"] == "M"]
    assert names == ["chip.tile0.adc", "chip.tile0.dac"]
    json.dumps(t)


def test_vcd_edges_match_merged_intervals():
    text = vcd_text(_comps())
    assert "$timescale 1ps $end" in text
    lines = text.splitlines()
    # adc busy 0..1600 (two touching intervals merge) and 4000..5000; dac 0..2000
    stamps = [l for l in lines if l.startswith("#")]
    assert stamps == ["#0", "#0", "#1600", "#2000", "#4000", "#5000"]
    ids = [l.split()[3] for l in lines if l.startswith("$var")]
    assert len(ids) == 2
