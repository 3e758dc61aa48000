"""Static power of the periphery scales with the instances the mapping elaborates
(issue 15): the static power of a whole machine, by hand, per tile and per chip.

Every figure is derived here from the sources the technology table cites (its periphery
static note, configs/technology/32nm_isaac.yaml), not read from the table:

* periphery density rho = 65 nW/um^2: leakage I_off 100 nA/um x 1.0 V (Intel 32 nm,
  Natarajan et al., IEDM 2008) x 0.5 um off width per um^2 = 50 nW/um^2, plus an
  ungated clock H-tree 15 nW/um^2;
* ADC: reference bias 0.243 (AD7980 REF 1.7 of 7.0 mW) x E_conv x 1.28 GS/s, plus
  rho x its area (ISAAC resolution-scaled rows: 9 bit 1.97 pJ, 1828 um^2);
* DAC 7-bit amplitude: rho x 21 um^2 / 2 (MNSIM 2.0 8-bit area, halved per bit);
* pulse generator, accumulator lane, digital-unit lane: rho x 60 um^2 (ISAAC
  shift-and-add area); chopper line: rho x 0.04 um^2;
* SRAM buffer: 0.171 um^2 x 50 nW/um^2 per bit; interconnect rho x 0.241 mm^2;
  DRAM and the passive crossbar: not modelled (0 W)."""
import math
from pathlib import Path

import pytest

from hwsim.config.accelerator import load_accelerator
from hwsim.elaborate.graph import build_machine
from hwsim.energy import TechnologyTable
from hwsim.energy.estimator import static_rows

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
RHO = 65e-9                                    # W per um^2


def _adc(bits_energy_pj, area_um2):
    return 0.243 * bits_energy_pj * 1e-12 * 1.28e9 + RHO * area_um2


def per_tile(rows, cols, cpa=8):
    """The c-TTv2 tile of configs/accelerators/cttv2_tile.yaml: 9-bit SAR ADCs sharing
    ``cpa`` lines each, one 7-bit DAC per column, a pulse generator on rows + cols
    lines, choppers on the cols input lines, a 64-lane accumulator."""
    adc = math.ceil(rows / cpa) * _adc(1.97, 1828)
    dac = cols * RHO * 21 / 2
    pg = (rows + cols) * RHO * 60
    chop = cols * RHO * 0.04
    acc = 64 * RHO * 60
    return adc + dac + pg + chop + acc


CHIP = 8 * 256 * 1024 * 0.171 * 50e-9 + RHO * 0.241e6 + 256 * RHO * 60   # buffer, NoC, DU


def machine_static(**over):
    m = build_machine(load_accelerator(str(ACC), over))
    rows = static_rows(m.components, TechnologyTable.load("32nm_isaac"), 1.0)
    return math.fsum(r.power for r in rows)


@pytest.mark.parametrize("size,count", [(64, 3), (256, 2)])
def test_static_power_of_a_machine_by_hand(size, count):
    got = machine_static(**{"tile.rows": size, "tile.cols": size, "tile.count": count})
    # the table rounds each row to 4 digits (e.g. 731.6 uW per 9-bit ADC)
    assert got == pytest.approx(CHIP + count * per_tile(size, size), rel=2e-4)


def test_many_small_tiles_pay_more_periphery_for_the_same_cells():
    # 16 tiles of 64x64 hold the cells of one 256x256 tile but have 4x its lines:
    # ADCs 16·8 = 128 vs 32, DACs 16·64 = 1024 vs 256, pulse-generator lines 16·128 =
    # 2048 vs 512, and 16 accumulators instead of one
    acc = 64 * RHO * 60
    small = machine_static(**{"tile.rows": 64, "tile.cols": 64, "tile.count": 16}) - CHIP
    big = machine_static(**{"tile.rows": 256, "tile.cols": 256, "tile.count": 1}) - CHIP
    assert small == pytest.approx(4 * (big - acc) + 16 * acc, rel=2e-4)
