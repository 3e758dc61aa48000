"""Static power (issue 15): every block's leakage/bias power from the technology table,
charged for the run's latency, reported apart from the dynamic energy; conservation
``total = Σ count × price + Σ P_static × T``.

Expected numbers are derived here by hand from the figures the table cites (its
periphery static note, configs/technology/32nm_isaac.yaml), not read from the table:

* leakage density 50 nW/um^2 = I_off 100 nA/um x 1.0 V (Natarajan et al., IEDM 2008)
  x 0.5 um off width per um^2; clock tree 15 nW/um^2; periphery rho = 65 nW/um^2;
* SRAM buffer: 0.171 um^2 cell x 50 nW/um^2 = 8.55 nW per bit;
* Interconnect: 0.241 mm^2 x 65 nW/um^2 = 15.665 mW;
* 8-bit SAR ADC: 0.243 x 1.67 pJ x 1.28 GS/s (reference bias, AD7980 REF share)
  + 1200 um^2 x 65 nW/um^2 = 519.4 + 78 uW per converter;
* Tile: 0 W (a passive crossbar; listed as not modelled)."""

RHO = 50e-9 + 15e-9                  # W per um^2 of periphery (leakage + clock tree)
P_BIT = 0.171 * 50e-9                # W per SRAM bit (cell leakage, no clock tree)
P_NOC = 0.241e6 * RHO                # W
P_ADC8 = 0.243 * 1.67e-12 * 1.28e9 + 1200 * RHO      # W per 8-bit SAR converter
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
    p_buf = 8 * 256 * KiB * P_BIT                 # 2 097 152 bit × 8.55 nW = 17.93 mW
    p_noc = P_NOC
    p_adc = 32 * P_ADC8                           # 32 converters × 597.4 uW = 19.12 mW
    by = {r.path: r for r in rep.static_rows}
    assert by["chip.buffer"].power == pytest.approx(p_buf)
    assert by["chip.buffer"].energy == pytest.approx(p_buf * T)
    assert by["chip.interconnect"].energy == pytest.approx(p_noc * T)
    assert by["chip.tile0"].power == 0
    assert by["chip.tile0.adc"].power == pytest.approx(p_adc, rel=1e-3)   # table rounds to 0.1 uW
    assert rep.static == pytest.approx((p_buf + p_noc + p_adc) * T, rel=1e-4) and rep.dynamic == 0
    # twice the latency, twice the static energy
    assert estimate(ActionLedger(), table, COMPONENTS, 2 * T).static == pytest.approx(
        2 * rep.static)


def test_not_modelled_static_power_is_listed(table):
    d = estimate(ActionLedger(), table, COMPONENTS, 1e-3).to_dict()
    listed = {u["kind"]: u for u in d["unpriced"] if u["action"] == "static"}
    assert set(listed) == {"Tile"}
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
    static = (8 * 256 * KiB * P_BIT + P_NOC + 32 * P_ADC8) * T
    assert rep.dynamic == pytest.approx(dyn)
    assert {(r.path, r.phase) for r in rep.rows if r.action == "static"} == {
        ("chip.buffer", "static"), ("chip.interconnect", "static"), ("chip.tile0.adc", "static")}
    assert rep.total == pytest.approx(dyn + static, rel=1e-4)
    d = rep.to_dict()
    # static rows are priced rows too (count = seconds, price = W): Σ count × price
    assert d["total_J"] == pytest.approx(math.fsum(r["count"] * r["price_J"] for r in d["rows"]))
    assert math.fsum(d["by_path_J"].values()) == pytest.approx(d["total_J"])
    assert d["static_J"] == pytest.approx(static, rel=1e-4) and d["dynamic_J"] == pytest.approx(dyn)
    # without components (older callers) there is no static part
    assert estimate(led, table).total == pytest.approx(dyn)
