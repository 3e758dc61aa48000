"""Static power (issue 15): every block's leakage/bias power from the technology table,
charged for the run's latency, reported apart from the dynamic energy; conservation
``total = Σ count × price + Σ P_static × T``.

Expected numbers are the rows of configs/technology/32nm_isaac.yaml: SRAM buffer
39.5 nW per bit (ISAAC 20.7 mW / 64 KB, derived upper bound), Interconnect 49 mW
(ISAAC router 42 mW + bus 7 mW), Tile 0 W (listed as not modelled), ADC: no entry."""
import math

import pytest

from hwsim.core import ActionLedger
from hwsim.energy import TechnologyTable, estimate

KiB = 1024


@pytest.fixture(scope="module")
def table():
    return TechnologyTable.load("32nm_isaac")


COMPONENTS = {
    "chip.buffer": {"kind": "Buffer", "attrs": {"technology": "sram", "capacity": 256 * KiB,
                                                 "bits": 8 * 256 * KiB}},
    "chip.interconnect": {"kind": "Interconnect", "attrs": {"bandwidth": 32.0, "hops": 1}},
    "chip.tile0": {"kind": "Tile", "attrs": {"rows": 256, "cols": 256}},
    "chip.tile0.adc": {"kind": "ADC", "attrs": {"type": "sar", "bits": 8, "count": 32}},
}


def test_leakage_times_time(table):
    T = 2.5e-3                                    # a 2.5 ms run
    rep = estimate(ActionLedger(), table, COMPONENTS, T)
    p_buf = 8 * 256 * KiB * 39.5e-9               # 2 097 152 bit × 39.5 nW = 82.84 mW
    p_noc = 49e-3
    by = {r.path: r for r in rep.static_rows}
    assert by["chip.buffer"].power == pytest.approx(p_buf)
    assert by["chip.buffer"].energy == pytest.approx(p_buf * T)
    assert by["chip.interconnect"].energy == pytest.approx(p_noc * T)
    assert by["chip.tile0"].power == 0 and by["chip.tile0.adc"].power == 0
    assert rep.static == pytest.approx((p_buf + p_noc) * T) and rep.dynamic == 0
    # twice the latency, twice the static energy
    assert estimate(ActionLedger(), table, COMPONENTS, 2 * T).static == pytest.approx(
        2 * rep.static)


def test_not_modelled_static_power_is_listed(table):
    d = estimate(ActionLedger(), table, COMPONENTS, 1e-3).to_dict()
    listed = {u["kind"]: u for u in d["unpriced"] if u["action"] == "static"}
    assert set(listed) == {"ADC", "Tile"}
    assert listed["ADC"]["reason"] == "static: no entry in the table, not modelled"
    assert listed["Tile"]["reason"].startswith("static: 0 W, a passive crossbar")
    assert d["partial"] is True


def test_conservation_dynamic_plus_static(table):
    led = ActionLedger()
    led.record("chip.buffer", "Buffer", "read_bit", 8000, phase="forward", technology="sram")
    led.record("chip.interconnect", "Interconnect", "flit_hop", 32, phase="forward")
    led.record("chip.tile0.adc", "ADC", "convert", 100, phase="forward", bits=8, type="sar")
    T = 1e-6
    rep = estimate(led, table, COMPONENTS, T)
    dyn = 8000 * 0.5e-12 + 32 * 20.7e-12 + 100 * 1.67e-12       # Σ count × price (table rows)
    static = (8 * 256 * KiB * 39.5e-9 + 49e-3) * T
    assert rep.dynamic == pytest.approx(dyn)
    assert {(r.path, r.phase) for r in rep.rows if r.action == "static"} == {
        ("chip.buffer", "static"), ("chip.interconnect", "static")}
    assert rep.total == pytest.approx(dyn + static)
    d = rep.to_dict()
    # static rows are priced rows too (count = seconds, price = W): Σ count × price
    assert d["total_J"] == pytest.approx(math.fsum(r["count"] * r["price_J"] for r in d["rows"]))
    assert math.fsum(d["by_path_J"].values()) == pytest.approx(d["total_J"])
    assert d["static_J"] == pytest.approx(static) and d["dynamic_J"] == pytest.approx(dyn)
    # without components (older callers) there is no static part
    assert estimate(led, table).total == pytest.approx(dyn)
