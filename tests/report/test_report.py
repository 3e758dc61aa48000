"""Report layer: deterministic JSON, CSV conservation, utilization, text totals."""
from __future__ import annotations

import ast
import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hwsim
from hwsim.components import ADC, DAC, Tile
from hwsim.config.blocks import ADCParams, DACParams, TileParams
from hwsim.core import ActionLedger, Clock
from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.report import (build_report, energy_csv_rows, render_text, to_json_text, write_csv,
                          write_json)
from hwsim.report.report import latency_section
from hwsim.sim.engine import Simulator
from hwsim.units import format_si


@pytest.fixture(scope="module")
def table():
    return TechnologyTable.load("32nm_isaac")


def run_chain(table, n=6):
    """DAC -> Tile -> ADC forward + a tile update through the engine; returns a report."""
    led = ActionLedger()
    dig, adc_clk = Clock("digital", 1e9), Clock("adc", 1.28e9)
    comps = {
        "t.dac": DAC("t.dac", DACParams(bits=7), dig, led, lines=32),
        "t.tile": Tile("t.tile", TileParams(rows=32, cols=32), dig, led),
        "t.adc": ADC("t.adc", ADCParams(bits=8, columns_per_adc=4), adc_clk, led, lines=32),
    }
    sim = Simulator(comps, ledger=led)
    h1 = sim.run_op("forward", n, ["t.dac", "t.tile", "t.adc"], phase="forward",
                    meta={"sum_gv2": 101.75})
    t_fwd = h1.t_end - h1.t_start
    h2 = sim.run_op("update", 20, ["t.tile"], phase="update",
                    meta={"pulses": 333, "row_slots": 64, "col_slots": 70})
    total = sim.now
    rep = build_report(total_ticks=total, phase_ticks={"forward": t_fwd,
                                                       "update": h2.t_end - h2.t_start},
                       component_stats={p: c.stats for p, c in comps.items()},
                       energy=estimate(led, table), area=area_report(comps, table), samples=n,
                       config={"tile": {"rows": 32, "cols": 32}, "adc": {"bits": 8}}, seed=7,
                       backend="numpy", name="chain")
    return rep


def test_json_byte_identical(tmp_path, table):
    a, b = run_chain(table), run_chain(table)
    assert to_json_text(a) == to_json_text(b)
    pa, pb = write_json(a, tmp_path / "a" / "r.json"), write_json(b, tmp_path / "b" / "r.json")
    assert Path(pa).read_bytes() == Path(pb).read_bytes()
    back = json.loads(Path(pa).read_text())
    assert back["energy"]["total_J"] == a["energy"]["total_J"]          # floats round-trip
    assert back["meta"]["seed"] == 7 and back["meta"]["backend"] == "numpy"
    assert set(back["meta"]["versions"]) == {"python", "numpy", "simpy", "cython", "hwsim"}
    assert back["meta"]["versions"]["hwsim"] == hwsim.__version__
    # the Cython that built the kernels, also where Cython itself is not installed
    assert re.fullmatch(r"\d+\.\d+.*", back["meta"]["versions"]["cython"])
    assert back["meta"]["config"]["adc"]["bits"] == 8
    keys = list(json.loads(to_json_text({"b": 1, "a": {"d": 2, "c": np.float64(-0.0)}})))
    assert keys == ["a", "b"]
    assert '"c": 0.0' in to_json_text({"c": np.float64(-0.0)})
    with pytest.raises(ValueError, match="non-finite"):
        to_json_text({"x": float("nan")})


def test_csv_rows_sum_to_total(tmp_path, table):
    rep = run_chain(table)
    p = write_csv(rep, tmp_path / "energy.csv")
    with open(p, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(rep["energy"]["rows"]) == len(energy_csv_rows(rep))
    assert math.fsum(float(r["energy_J"]) for r in rows) == rep["energy"]["total_J"]
    for r in rows:
        assert float(r["energy_J"]) == pytest.approx(float(r["count"]) * float(r["price_J"]),
                                                     rel=1e-15)
        assert r["source"]
    keys = {(r["path"], r["action"], r["attrs"], r["phase"]) for r in rows}
    assert len(keys) == len(rows)                           # one row per component/action/phase
    assert ("t.adc", "convert", "bits=8;type=sar", "forward") in keys
    per_path = {}
    for r in rows:
        per_path[r["path"]] = per_path.get(r["path"], 0.0) + float(r["energy_J"])
    for path, e in rep["energy"]["by_path_J"].items():
        assert per_path[path] == pytest.approx(e, rel=1e-14)


def test_latency_utilization_and_per_sample(table):
    rep = run_chain(table, n=6)
    lat = rep["latency"]
    assert lat["total_s"] == lat["total_ticks"] * 1e-12
    for path, c in lat["components"].items():
        assert 0.0 <= c["utilization"] <= 1.0
        assert c["utilization"] == pytest.approx(min(1.0, c["busy_ticks"] / lat["total_ticks"]))
    # the tile is busy for 6 integrations of 40 ns plus 20 update slots of 5 ns
    assert lat["components"]["t.tile"]["busy_ticks"] == 6 * 40_000 + 20 * 5_000
    assert sum(p["ticks"] for p in lat["phases"].values()) == lat["total_ticks"]
    ps = rep["per_sample"]
    assert ps["samples"] == 6
    assert ps["energy_J"] == pytest.approx(rep["energy"]["total_J"] / 6)
    assert ps["latency_s"] == pytest.approx(lat["total_s"] / 6)
    assert rep["average_power_W"] == pytest.approx(rep["energy"]["total_J"] / lat["total_s"])
    with pytest.raises(ValueError, match="samples"):
        build_report(total_ticks=10, samples=0)


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 10**9), busy=st.integers(0, 2 * 10**9))
def test_utilization_always_in_unit_interval(total, busy):
    lat = latency_section(total, component_stats={"x": {"busy_ticks": busy}})
    u = lat["components"]["x"]["utilization"]
    assert 0.0 <= u <= 1.0
    if total and busy <= total:
        assert u == busy / total


def test_text_contains_totals(table):
    rep = run_chain(table)
    text = render_text(rep)
    assert format_si(rep["energy"]["total_J"], "J") in text
    assert format_si(rep["latency"]["total_s"], "s") in text
    assert format_si(rep["area"]["total_m2"], "m^2") in text
    assert "TOTAL" in text and "t.adc" in text and "Tile.read_cell" in text
    assert "seed 7, backend numpy" in text
    bare = render_text(build_report(total_ticks=1000))
    assert "1 ns" in bare and "total energy" not in bare


def test_report_imports_neither_sim_nor_build():
    root = Path(hwsim.__file__).parent / "report"
    for f in root.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for n in names:
                assert not n.startswith(("hwsim.sim", "hwsim.elaborate", "simpy")), (f, n)
