"""Energy and area estimation: conservation, table lookups, table validation."""
from __future__ import annotations

import math
import textwrap

import pytest

from hwsim.components import ADC, DAC, Tile
from hwsim.config.blocks import ADCParams, DACParams, TileParams
from hwsim.config.technology import list_technologies, load_technology
from hwsim.core import ActionLedger, Clock
from hwsim.energy import TechnologyTable, UnpricedError, area_report, estimate
from hwsim.errors import ConfigError
from hwsim.sim.engine import Simulator


#: the attributes a default Tile records with read_cell (tile.py)
CELL = {"read_voltage": 0.2, "g_max": 50e-6, "integration_time": 40e-9}

pJ, fJ, um2 = 1e-12, 1e-15, 1e-12

# TECHNOLOGY.md, "Analog periphery": SAR ADC 4..10 bit (ISAAC, resolution-scaled)
SAR_PJ = {4: 0.79, 5: 0.99, 6: 1.20, 7: 1.42, 8: 1.67, 9: 1.97, 10: 2.38}
SAR_UM2 = {4: 361, 5: 477, 6: 627, 7: 845, 8: 1200, 9: 1828, 10: 3002}


@pytest.fixture(scope="module")
def table():
    return TechnologyTable.load("32nm_isaac")


# -- conservation ------------------------------------------------------------------------

def hand_ledger():
    led = ActionLedger()
    led.record("chip.t0.adc", "ADC", "convert", 1000, phase="forward", bits=8, type="sar")
    led.record("chip.t0.adc", "ADC", "convert", 250, phase="backward", bits=8, type="sar")
    led.record("chip.t1.adc", "ADC", "convert", 7, phase="forward", bits=9, type="sar")
    led.record("chip.t0.dac", "DAC", "convert", 512, phase="forward", bits=7, encoding="amplitude")
    led.record("chip.t0.tile", "Tile", "read_cell", 3177.25, phase="forward", **CELL)
    led.record("chip.t0.tile", "Tile", "pulse", 91, phase="update")
    led.record("chip.t0.tile", "Tile", "row_drive", 40, phase="update")
    led.record("chip.bus", "Interconnect", "transfer_bit", 8192, phase="transfer")
    return led


def test_total_equals_sum_of_count_times_price(table):
    led = hand_ledger()
    rep = estimate(led, table)
    expect = {}
    for key, count in led.items():
        expect.setdefault(key.path, []).append(count * table.price(key.kind, key.action, key.attrs))
    for path, parts in expect.items():
        assert rep.by_path()[path] == pytest.approx(math.fsum(parts), rel=1e-15)
    overall = math.fsum(e for parts in expect.values() for e in parts)
    assert rep.total == pytest.approx(overall, rel=1e-15)
    assert math.fsum(rep.by_phase().values()) == pytest.approx(rep.total, rel=1e-14)
    assert math.fsum(rep.by_action().values()) == pytest.approx(rep.total, rel=1e-14)
    # independent numbers from TECHNOLOGY.md
    hand = (1250 * 1.67 * pJ + 7 * 1.97 * pJ + 512 * 0.496 * pJ / 2
            + 3177.25 * 0.2**2 * 50e-6 * 40e-9 + 91 * 1.3 * pJ + 40 * 0.9 * pJ
            + 8192 * 0.054 * pJ)
    assert rep.total == pytest.approx(hand, rel=1e-12)
    pa = rep.by_path_action()[("chip.t0.adc", "convert")]
    assert pa["count"] == 1250 and pa["price_J"] == pytest.approx(1.67 * pJ)
    assert pa["energy_J"] == pytest.approx(1250 * 1.67 * pJ) and "ISAAC" in pa["source"]
    assert rep.by_phase()["backward"] == pytest.approx(250 * 1.67 * pJ)


def _chain(lines=64, adc_bits=9, cpa=8):
    led = ActionLedger()
    dig, adc_clk = Clock("digital", 1e9), Clock("adc", 1.25e9)
    comps = {
        "t.dac": DAC("t.dac", DACParams(bits=7), dig, led, lines=lines),
        "t.tile": Tile("t.tile", TileParams(rows=lines, cols=lines), dig, led),
        "t.adc": ADC("t.adc", ADCParams(bits=adc_bits, columns_per_adc=cpa), adc_clk, led,
                     lines=lines),
    }
    return comps, led


def test_conservation_through_simulator(table):
    comps, led = _chain()
    sim = Simulator(comps, ledger=led)
    sim.run_op("forward", 5, ["t.dac", "t.tile", "t.adc"], phase="forward",
               meta={"sum_gv2": 812.5})
    sim.run_op("update", 31, ["t.tile"], phase="update",
               meta={"pulses": 1234, "row_slots": 300, "col_slots": 280})
    rep = estimate(led, table)
    hand = {
        "t.dac": 5 * 64 * 0.496 * pJ / 2,                         # 7-bit: exp2 from 8-bit
        "t.tile": 812.5 * 0.2**2 * 50e-6 * 40e-9 + 1234 * 1.3 * pJ + 580 * 0.9 * pJ,
        "t.adc": 5 * 64 * 1.97 * pJ,
    }
    for path, e in hand.items():
        assert rep.by_path()[path] == pytest.approx(e, rel=1e-12)
    assert rep.total == pytest.approx(math.fsum(hand.values()), rel=1e-12)
    assert rep.total == pytest.approx(math.fsum(r.count * r.price for r in rep.rows), rel=1e-15)
    assert set(rep.by_phase()) == {"forward", "update"}


# -- lookups ---------------------------------------------------------------------------

@pytest.mark.parametrize("bits", sorted(SAR_PJ))
def test_sar_adc_matches_technology_md(table, bits):
    attrs = {"bits": bits, "type": "sar"}
    assert table.price("ADC", "convert", attrs) == pytest.approx(SAR_PJ[bits] * pJ, rel=1e-12)
    assert table.area("ADC", attrs) == pytest.approx(SAR_UM2[bits] * um2, rel=1e-12)
    assert "scaled by rule" not in table.source_of("ADC", "convert", attrs)


def test_scaling_rule_exp2(table):
    for bits, ref in ((11, 10), (12, 10), (3, 4), (1, 4)):
        attrs = {"bits": bits, "type": "sar", "count": 3}
        f = 2.0 ** (bits - ref)
        assert table.price("ADC", "convert", attrs) == pytest.approx(SAR_PJ[ref] * pJ * f)
        assert table.area("ADC", attrs) == pytest.approx(3 * SAR_UM2[ref] * um2 * f)
        src = table.source_of("ADC", "convert", attrs)
        assert "exp2" in src and f"bits={ref}" in src and "Murmann" in src
    # DAC amplitude: 7 bits from the 8-bit MNSIM row, 6 bits equidistant from 4 and 8 -> from 8
    assert table.price("DAC", "convert", {"bits": 7, "encoding": "amplitude"}) == \
        pytest.approx(0.248 * pJ)
    assert table.price("DAC", "convert", {"bits": 6, "encoding": "amplitude"}) == \
        pytest.approx(0.124 * pJ)
    # PWM is priced regardless of bits (more specific entries would win)
    assert table.price("DAC", "convert", {"bits": 7, "encoding": "pwm"}) == pytest.approx(0.4 * pJ)


def test_derived_read_cell_and_explicit_zero(table):
    assert table.price("Tile", "read_cell", CELL) == pytest.approx(0.2**2 * 50e-6 * 40e-9,
                                                                   rel=1e-12)
    # the tile's own electrical parameters price its reads: V², G and t scale the energy
    other = {"read_voltage": 0.1, "g_max": 25e-6, "integration_time": 80e-9}
    assert table.price("Tile", "read_cell", other) == pytest.approx(0.1**2 * 25e-6 * 80e-9,
                                                                    rel=1e-12)
    assert "read_voltage [V, from the action]" in table.source_of("Tile", "read_cell", CELL)
    with pytest.raises(ConfigError, match="priced per read_voltage"):
        table.price("Tile", "read_cell")
    assert table.price("Tile", "read") == 0.0
    assert "read_cell" in table.source_of("Tile", "read")
    assert table.area("Tile", {"rows": 128, "cols": 128}) == pytest.approx(25 * um2, rel=1e-6)


def test_unpriced_action_is_an_error(table):
    with pytest.raises(UnpricedError) as ei:
        table.price("ADC", "convert", {"bits": 8, "type": "flash"})
    e = ei.value
    assert isinstance(e, ConfigError) and e.file.endswith("32nm_isaac.yaml")
    assert "ADC.convert" in e.one_line() and "type=flash" in e.one_line()
    with pytest.raises(UnpricedError, match="Tile.levitate"):
        table.price("Tile", "levitate")
    with pytest.raises(UnpricedError, match="Widget"):
        table.area("Widget", {})
    led = ActionLedger()
    led.record("x", "ADC", "convert", 3, bits=8, type="cco")
    with pytest.raises(UnpricedError, match="type=cco"):
        estimate(led, table)


def test_area_report_sums_count_aware(table):
    comps, _ = _chain(lines=64, adc_bits=9, cpa=8)
    rep = area_report(comps, table)
    by_path = {r.path: r.area for r in rep.rows}
    assert by_path["t.adc"] == pytest.approx(8 * 1828 * um2)           # 64/8 converters
    assert by_path["t.dac"] == pytest.approx(64 * 10.5 * um2)         # 7-bit: 21 um^2 / 2
    assert by_path["t.tile"] == pytest.approx(64 * 64 * 25 / 16384 * um2, rel=1e-6)
    assert rep.total == pytest.approx(math.fsum(by_path.values()), rel=1e-15)
    assert rep.by_kind()["ADC"] == by_path["t.adc"]

    class NoArea:
        KIND = "Controller"
        path = "ctl"
    plain = {"a": {"kind": "ADC", "attrs": {"bits": 8, "type": "sar", "count": 2}}}
    rep2 = area_report(plain, table)
    assert rep2.total == pytest.approx(2 * 1200 * um2)
    rep3 = area_report([NoArea()] + list(comps.values()), table)
    assert rep3.skipped == ("ctl",) and rep3.total == pytest.approx(rep.total)
    with pytest.raises(UnpricedError, match="no 'rows'"):
        table.area("Tile", {"cols": 4})


def test_second_table_extends_and_overrides():
    assert {"32nm_isaac", "45nm_horowitz_digital"} <= set(list_technologies())
    t45 = TechnologyTable.load("45nm_horowitz_digital")
    t32 = TechnologyTable.load("32nm_isaac")
    op = {"function": "add", "bits": 16}
    assert t45.price("DigitalUnit", "op", op) == pytest.approx(0.05 * pJ)      # Horowitz 16-bit
    assert t32.price("DigitalUnit", "op", op) == pytest.approx(0.021 * pJ)     # ISAAC s&a
    # Horowitz rows are exact in the 45 nm table; widths not listed follow the rules
    assert t45.price("DigitalUnit", "op", {"function": "mult", "bits": 32}) == pytest.approx(3.1 * pJ)
    assert t45.price("DigitalUnit", "op", {"function": "add", "bits": 8}) == pytest.approx(0.03 * pJ)
    assert t32.price("DigitalUnit", "op", {"function": "mult", "bits": 32}) == \
        pytest.approx(0.8 * pJ * 4)                                           # quadratic rule
    assert t32.price("DigitalUnit", "op", {"function": "add", "bits": 32}) == \
        pytest.approx(0.042 * pJ)                                             # linear rule
    assert "quadratic" in t32.source_of("DigitalUnit", "op", {"function": "mult", "bits": 8})
    assert t45.price("Buffer", "read_bit", {"technology": "sram"}) == pytest.approx(0.16 * pJ)
    attrs = {"bits": 8, "type": "sar"}
    assert t45.price("ADC", "convert", attrs) == t32.price("ADC", "convert", attrs)
    assert t45.source_of("ADC", "convert", attrs) == t32.source_of("ADC", "convert", attrs)
    assert t45.price("ADC", "convert", {"bits": 11, "type": "sar"}) == pytest.approx(4.76 * pJ)


# -- table files -----------------------------------------------------------------------

GOOD = """\
schema_version: 1
name: t
node: 32 nm
source: test
constants:
  v: {value: 0.5 V, source: s}
  g: {value: 10 uS, source: s}
  t: {value: 2 ns, source: s}
entries:
  - kind: ADC
    match: {type: sar, bits: 8}
    energy: {convert: 1 pJ}
    area: 10 um^2
    source: a
  - kind: Tile
    energy:
      read_cell: {product: [v, v, g, t]}
    source: derived
"""


def write(tmp_path, text, name="t.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_good_file_by_path(tmp_path):
    p = write(tmp_path, GOOD)
    t = TechnologyTable.load(p.name, base_dir=tmp_path)
    assert t.price("Tile", "read_cell") == pytest.approx(0.25 * 10e-6 * 2e-9)
    assert t.price("ADC", "convert", {"bits": 8, "type": "sar"}) == pytest.approx(1e-12)
    with pytest.raises(UnpricedError, match="scaling rule"):
        t.price("ADC", "convert", {"bits": 9, "type": "sar"})   # no rule here: an error


@pytest.mark.parametrize("old,new,line,key,msg", [
    ("node: 32 nm", "nodes: 32 nm", 3, "nodes", "unknown key"),
    ("    area: 10 um^2", "    areas: 10 um^2", 13, "entries[0].areas", "unknown key"),
    ("    source: a\n", "", 10, "entries[0].source", "missing"),
    ("{convert: 1 pJ}", "{convert: 1 pF}", 12, "entries[0].energy.convert", "energy"),
    ("{convert: 1 pJ}", "{convert: 1 pJJ}", 12, "entries[0].energy.convert", "unknown unit"),
    ("{convert: 1 pJ}", "{convert: 1}", 12, "entries[0].energy.convert", "unit"),
    ("10 um^2", "10 um", 13, "entries[0].area", "area"),
    ("[v, v, g, t]", "[v, v, g]", 17, "entries[1].energy.read_cell", "not an energy"),
    ("[v, v, g, t]", "[v, v, g, q]", 17, "entries[1].energy.read_cell.product[3]",
     "unknown constant"),
    ("  t: {value: 2 ns, source: s}", "  t: {value: 2 ns}", 8, "constants.t.source", "missing"),
    ("schema_version: 1", "schema_version: 2", 1, "schema_version", "schema_version"),
])
def test_bad_table_file(tmp_path, old, new, line, key, msg):
    assert old in GOOD
    p = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as ei:
        load_technology(str(p))
    e = ei.value
    assert e.file == str(p) and e.line == line and e.key == key, e.one_line()
    assert msg in e.one_line()
    assert e.one_line().startswith(f"{p}:{line}: {key}: ")


def test_missing_file_duplicate_ambiguous_and_bad_rule(tmp_path):
    with pytest.raises(ConfigError, match="not found") as ei:
        load_technology(str(tmp_path / "nope.yaml"))
    assert ei.value.file.endswith("nope.yaml")
    with pytest.raises(ConfigError, match="unknown technology table 'nope'"):
        load_technology("nope")
    dup = GOOD + "  - {kind: ADC, match: {bits: 8, type: sar}, energy: {convert: 2 pJ}, source: b}\n"
    with pytest.raises(ConfigError, match="duplicate entry") as ei:
        load_technology(str(write(tmp_path, dup)))
    assert ei.value.line == 19 and ei.value.key == "entries[2]"
    amb = GOOD + ("  - {kind: ADC, match: {type: sar}, energy: {convert: 2 pJ}, source: b}\n"
                  "  - {kind: ADC, match: {bits: 9}, energy: {convert: 3 pJ}, source: c}\n")
    t = TechnologyTable.load(write(tmp_path, amb, "amb.yaml"))
    assert t.price("ADC", "convert", {"bits": 8, "type": "sar"}) == pytest.approx(1e-12)
    with pytest.raises(ConfigError, match="ambiguous"):
        t.price("ADC", "convert", {"bits": 9, "type": "sar"})
    rule = GOOD + "scaling:\n  - {kind: ADC, attr: bits, rule: cubic, source: x}\n"
    with pytest.raises(ConfigError, match="exp2, linear, quadratic") as ei:
        load_technology(str(write(tmp_path, rule, "rule.yaml")))
    assert ei.value.key == "scaling[0].rule" and ei.value.line == 20


def test_extends_and_linear_rule(tmp_path):
    write(tmp_path, GOOD, "base.yaml")
    child = write(tmp_path, """\
        schema_version: 1
        name: child
        source: test
        extends: base.yaml
        constants:
          v: {value: 1 V, source: s2}
        entries:
          - {kind: ADC, match: {type: sar, bits: 8}, energy: {convert: 4 pJ}, source: override}
        scaling:
          - {kind: ADC, match: {type: sar}, attr: bits, rule: linear, source: lin}
        """, "child.yaml")
    t = TechnologyTable.load(str(child))
    assert t.config.node == "32 nm"
    assert t.price("ADC", "convert", {"bits": 8, "type": "sar"}) == pytest.approx(4e-12)
    assert t.price("ADC", "convert", {"bits": 12, "type": "sar"}) == pytest.approx(6e-12)
    assert t.source_of("ADC", "convert", {"bits": 8, "type": "sar"}) == "override"
    # the parent's derived energy keeps the parent's constants (resolved at load)
    assert t.price("Tile", "read_cell") == pytest.approx(0.25 * 10e-6 * 2e-9)
    # an entry without area has no area; the override dropped the parent's ADC area
    with pytest.raises(UnpricedError):
        t.area("ADC", {"bits": 8, "type": "sar"})


# Attributes the blocks of hwsim.components record (actions) and report (area_attrs).
BLOCK_ACTIONS = [
    ("PulseGenerator", "pulse_slot", {"rng": "lfsr"}), ("PulseGenerator", "rng_draw", {"rng": "lfsr"}),
    ("Chopper", "flip", {}),
    ("Tile", "wire_charge", {"read_voltage": 0.2, "wire_capacitance": 25.6e-18}),
    ("Interconnect", "flit_hop", {}),
    *[("DRAM", a, {"technology": t}) for a in ("read_bit", "write_bit")
      for t in ("lpddr4", "hbm2", "gddr5")],
    *[("DigitalAccumulator", a, {"bits": 16}) for a in ("add", "compare", "read", "write")],
    *[("DigitalUnit", "op", {"function": k, "bits": 16}) for k in
      ("activation", "activation_grad", "loss_grad", "partial_sum", "bias", "pca", "scale",
       "add", "mult", "compare", "mac")],
    ("Buffer", "read_bit", {"technology": "sram"}), ("Buffer", "write_bit", {"technology": "edram"}),
    ("Interconnect", "transfer_bit", {}),
    *[("Tile", a, {}) for a in ("read", "pulse", "row_drive", "col_drive")],
    ("Tile", "read_cell", {"read_voltage": 0.2, "g_max": 50e-6, "integration_time": 40e-9}),
]
BLOCK_AREAS = [
    # table rows: 60 um^2 per line (pulse generator), 0.171 um^2 per SRAM bit,
    # ISAAC router 0.151 mm^2 + bus 0.090 mm^2 (configs/technology/32nm_isaac.yaml)
    ("PulseGenerator", {"rng": "lfsr", "lines": 512}, 512 * 60 * um2),
    ("Chopper", {"lines": 256}, 256 * 0.04 * um2),
    ("DigitalAccumulator", {"lanes": 64, "bits": 16}, 64 * 60 * um2),
    ("DigitalAccumulator", {"lanes": 64, "bits": 32}, 64 * 120 * um2),
    ("DigitalUnit", {"lanes": 256, "bits": 16}, 256 * 60 * um2),
    ("Buffer", {"technology": "sram", "capacity": 262144.0, "bits": 8 * 262144.0},
     8 * 262144 * 0.171 * um2),
    ("Interconnect", {"bandwidth": 32.0, "hops": 1}, 0.241e6 * um2),
]


@pytest.mark.parametrize("name", ["32nm_isaac", "45nm_horowitz_digital"])
def test_every_block_action_and_area_is_priced(name):
    t = TechnologyTable.load(name)
    for kind, action, attrs in BLOCK_ACTIONS:
        assert t.price(kind, action, attrs) >= 0 and t.source_of(kind, action, attrs)
    for kind, attrs, area in BLOCK_AREAS:
        assert t.area(kind, attrs) == pytest.approx(area, abs=1e-30)
    with pytest.raises(UnpricedError, match="function=op"):
        t.price("DigitalUnit", "op", {"function": "op", "bits": 16})   # an unnamed op kind
