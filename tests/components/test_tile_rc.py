"""Arrays that scale (issue 15): the tile's read settling time and drive energy follow
rows × cols from the per-cell wire resistance and capacitance (hwsim/components/tile.py).

Hand closed forms with the defaults (DNN+NeuroSim V2.1, 32 nm: r = 2.967 Ohm and
c = 25.6 aF per cell, 7 time constants, V_read = 0.2 V):
    tau = ½·r·c·(rows² + cols²),  t_read = 7·tau,  E_drive = n · lines_in · lines_out · c · V²
"""
import math
from dataclasses import replace

import pytest

from hwsim.components import Tile
from hwsim.core import ActionLedger, Clock
from hwsim.energy import TechnologyTable, estimate
from hwsim.sim.engine import Simulator

NS = 1000
R, C, V = 2.967, 25.6e-18, 0.2


def _tile(rows, cols, **kw):
    led = ActionLedger()
    p = replace(Tile.Params(), rows=rows, cols=cols, **kw)
    return Tile("chip.tile0", p, Clock("digital", 1e9), led), led


@pytest.mark.parametrize("size, cycles", [(256, 1), (4096, 9)])
def test_settling_time_from_the_wire_rc(size, cycles):
    t, _ = _tile(size, size, read_timing="rc")
    tau = 0.5 * R * C * (2 * size ** 2)
    assert t.settling_tau() == pytest.approx(tau)
    assert t.read_time() == pytest.approx(7 * tau)
    # 256: 7 · 4.98 ps = 34.8 ps -> at least one 1 ns cycle;  4096: 7 · 1.274 ns = 8.92 ns -> 9
    assert max(1, math.ceil(7 * tau * 1e9 - 1e-9)) == cycles
    assert t.timing(_txn("forward")) == (cycles, cycles)


def test_fixed_timing_is_the_integration_time_override():
    t, _ = _tile(4096, 4096)                              # default read_timing: fixed
    assert t.read_time() == 40e-9 and t.timing(_txn("forward")) == (40, 40)


class _txn:
    def __init__(self, op, meta=None, n=1):
        self.op, self.meta, self.n_total, self.n = op, meta or {}, n, n


@pytest.mark.parametrize("rows, cols", [(128, 128), (512, 256)])
def test_drive_energy_grows_with_rows_times_cols(rows, cols):
    t, led = _tile(rows, cols, read_timing="rc")
    sim = Simulator({t.path: t}, ledger=led)
    n = 10
    sim.submit("forward", n, (t.path,), meta={"sum_gv2": 0.0, "lines_in": cols,
                                              "lines_out": rows}, phase="forward")
    sim.run()
    counts = {r["action"]: r["count"] for r in led.to_rows()}
    assert counts["wire_charge"] == n * rows * cols
    rep = estimate(led, TechnologyTable.load("32nm_isaac"))
    drive = rep.by_action()["Tile.wire_charge"]
    assert drive == pytest.approx(n * rows * cols * C * V ** 2)   # 128²: 10 · 0.42 pJ
