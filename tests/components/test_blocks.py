"""Cycle-level tests of every hardware block: source -> DUT(s) -> sink through the engine.

Every timing test states the expected arrival tick as a closed form derived by hand
(in the comment or the helper next to it), runs the route through
``hwsim.sim.engine.Simulator`` in burst AND item mode, and checks that both modes give
that tick and identical action ledgers.  Clocks: digital 1 GHz (1000 ps), ADC 1.25 GHz
(800 ps) or 1.28 GHz (781.25 ps: edges ceil(k · 3125 / 4)).
"""
from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hwsim.components import (ADC, DAC, Buffer, Chopper, DigitalAccumulator, DigitalUnit,
                              Interconnect, PulseGenerator, Tile)
from hwsim.core import ActionLedger, Clock, check_connections, kinds, stage_timing
from hwsim.errors import BuildError, SimulationError
from hwsim.sim.engine import Simulator

NS = 1000                      # ticks per ns
DIG = Clock("digital", 1e9)    # 1000 ps


def mk(cls, path, clock, ledger, kw=None, **params):
    return cls(path, replace(cls.Params(), **params), clock, ledger, **(kw or {}))


def simulate(build, ops, mode):
    """Run ``ops`` [(op, n, route, meta)] submitted at t=0; return (ends, ledger rows, comps)."""
    ledger = ActionLedger()
    comps = {c.path: c for c in build(ledger)}
    sim = Simulator(comps, granularity=mode, ledger=ledger)
    handles = [sim.submit(op, n, route, meta=meta, phase=op) for op, n, route, meta in ops]
    sim.run()
    assert sim.ops_done == len(ops)
    return [h.t_end for h in handles], ledger.to_rows(), comps


def both_modes(build, ops):
    """Burst and item mode: same end ticks and identical ledgers; returns burst results."""
    ends_b, rows_b, comps_b = simulate(build, ops, "burst")
    ends_i, rows_i, _ = simulate(build, ops, "item")
    assert ends_b == ends_i
    assert rows_b == rows_i
    return ends_b, rows_b, comps_b


def counts(rows) -> dict:
    out = {}
    for r in rows:
        key = (r["path"], r["action"])
        out[key] = out.get(key, 0) + r["count"]
    return out


def edge_of(freq_hz, k) -> int:
    """Hand closed form of a clock edge: ceil(k · 10¹² / f) ps."""
    return math.ceil(Fraction(k) * Fraction(10**12) / Fraction(freq_hz))


def index_at(freq_hz, t) -> int:
    """Index of the first edge at or after tick t: ceil(t · f / 10¹²)."""
    return math.ceil(Fraction(t) * Fraction(freq_hz) / Fraction(10**12))


# ----------------------------------------------------------------------------- clock
def test_clock_1p28ghz_edges_never_drift():
    clk = Clock("adc", 1.28e9)
    for k in list(range(0, 5000)) + [10**6 + 3, 10**9 + 1, 10**12 + 7]:
        assert clk.edge(k) == math.ceil(k * 781.25) == -(-k * 3125 // 4)
    assert clk.edge(4 * 10**9) == 3125 * 10**9          # 4e9 periods, exactly, no drift
    for k in (0, 1, 2, 3, 4, 5, 777, 10**9 + 1):
        e = clk.edge(k)
        assert clk.edge_index(e) == k
        assert clk.next_edge(e) == e
        assert clk.next_edge(e + 1) == clk.edge(k + 1)
    assert clk.cycles_to_ticks(4, start=1) == clk.edge(5) - clk.edge(1) == 3125
    assert DIG.edge(12345) == 12345 * NS and DIG.next_edge(12001) == 13000
    with pytest.raises(ValueError, match="frequency must be > 0"):
        Clock("bad", 0)


# ---------------------------------------------------------------------- stage_timing
def test_stage_timing_edge_cases():
    # n items at II from an idle stage: last = (n-1)·II + L
    st1 = stage_timing(DIG, 3, 2, 5, 0, 0, 0)
    assert (st1.start, st1.first_out, st1.last_out, st1.free_at) == (0, 3000, 11000, 10000)
    assert st1.busy == 10000
    # latency 0: first item leaves on its acceptance edge
    st0 = stage_timing(DIG, 0, 1, 1, 2000, 2000, 0)
    assert (st0.first_out, st0.last_out, st0.free_at) == (2000, 2000, 3000)
    # arrival between edges aligns up to the next edge (domain crossing)
    sta = stage_timing(DIG, 1, 1, 1, 2001, 2001, 0)
    assert (sta.start, sta.first_out) == (3000, 4000)
    # busy stage: start waits for free_at
    stb = stage_timing(DIG, 2, 1, 2, 0, 0, 7000)
    assert (stb.start, stb.first_out, stb.last_out) == (7000, 9000, 10000)
    # slow upstream: last item arrives late, k_last follows t_last not k0 + (n-1)·II
    sts = stage_timing(DIG, 2, 1, 3, 0, 50_500, 0)
    assert (sts.last_out, sts.free_at) == (53000, 52000)
    # a 1.28 GHz stage: edges 0, 782, 1563, 2344, 3125, ...
    clk = Clock("adc", 1.28e9)
    st2 = stage_timing(clk, 2, 1, 2, 100, 100, 0)
    assert (st2.start, st2.first_out, st2.last_out, st2.free_at) == (782, 2344, 3125, 2344)
    with pytest.raises(ValueError, match="at least one item"):
        stage_timing(DIG, 1, 1, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="II >= 1"):
        stage_timing(DIG, 1, 0, 1, 0, 0, 0)
    with pytest.raises(ValueError, match="latency must be >= 0"):
        stage_timing(DIG, -1, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------- port checks
def _periphery():
    led = ActionLedger()
    return {"chip.dac": mk(DAC, "chip.dac", DIG, led), "chip.tile": mk(Tile, "chip.tile", DIG, led),
            "chip.adc": mk(ADC, "chip.adc", DIG, led), "chip.dac2": mk(DAC, "chip.dac2", DIG, led),
            "chip.buf": mk(Buffer, "chip.buf", DIG, led)}


_GOOD = [("chip.buf.out", "chip.dac.in"), ("chip.buf.out", "chip.dac2.in"),
         ("chip.dac.out", "chip.tile.in"), ("chip.tile.out", "chip.adc.in"),
         ("chip.adc.out", "chip.buf.in")]


def test_check_connections_accepts_a_valid_graph():
    comps = _periphery()
    comps.pop("chip.dac2")
    conns = [c for c in _GOOD if "dac2" not in c[1]]
    adj = check_connections(comps, conns)
    assert adj["chip.dac"] == {"chip.tile"} and adj["chip.tile"] == {"chip.adc"}


@pytest.mark.parametrize("conns, needles", [
    # dangling: dac2.out goes nowhere
    (_GOOD, ["chip.dac2.out", "not connected"]),
    # doubly connected single port
    (_GOOD + [("chip.dac2.out", "chip.tile.in")], ["chip.tile.in", "more than once"]),
    # type mismatch names both ends
    (_GOOD + [("chip.dac2.out", "chip.buf.in")],
     ["chip.dac2.out", "chip.buf.in", "type mismatch", "analog_vector", "digital_vector"]),
    # unknown port and unknown component
    (_GOOD + [("chip.dac2.outt", "chip.tile.in")], ["chip.dac2.outt", "has no port 'outt'",
                                                    "ports: in, out"]),
    (_GOOD + [("chip.dac3.out", "chip.tile.in")], ["chip.dac3.out", "no component 'chip.dac3'"]),
    # direction: input to input
    (_GOOD + [("chip.dac2.in", "chip.tile.in")], ["chip.dac2.in", "chip.tile.in",
                                                  "output port to an input port"]),
])
def test_check_connections_rejects(conns, needles):
    with pytest.raises(BuildError) as exc:
        check_connections(_periphery(), conns,
                          where=lambda i: {"file": "acc.yaml", "line": 10 + i})
    msg = exc.value.one_line()
    for needle in needles:
        assert needle in msg


def test_check_connections_carries_file_and_line():
    conns = _GOOD + [("chip.dac2.out", "chip.buf.in")]
    with pytest.raises(BuildError) as exc:
        check_connections(_periphery(), conns, where=lambda i: {"file": "acc.yaml", "line": 10 + i})
    assert exc.value.one_line().startswith("acc.yaml:15: ")


# ------------------------------------------------------------- DAC -> Tile -> ADC
def _mvm_chain(rows, cols, k, adc_clock, n_adc=1, n_tiles=1):
    """n_tiles DAC/Tile pairs feeding n_adc ADC banks (tile i -> adc i % n_adc)."""
    def build(led):
        out = []
        for i in range(n_tiles):
            out.append(mk(DAC, f"t{i}.dac", DIG, led, kw={"lines": cols}))
            out.append(mk(Tile, f"t{i}.tile", DIG, led, rows=rows, cols=cols))
        for j in range(n_adc):
            out.append(mk(ADC, f"adc{j}", adc_clock, led, kw={"lines": rows},
                          columns_per_adc=k))
        return out
    return build


def _mvm_closed_form(n, rows, k, f_adc, L_dac=1, c_int=40, adc_lat=1, adc_ii=1):
    """End tick of n vectors DAC -> Tile -> ADC from t=0 (DAC and tile at 1 GHz).

    DAC L=II=1, tile L=II=c_int (the bottleneck upstream of the ADC), so the tile's
    first vector leaves at (L_dac + c_int) ns and its last (n-1)·c_int ns later.  The
    ADC (k_eff = ceil(rows / ceil(rows/k)) lines per converter, L = k_eff·lat, II =
    k_eff·ii) accepts the first vector on its first edge at/after that tick (k0), the
    last at max(edge after the last arrival, k0 + (n-1)·II), and emits L cycles later.
    """
    k_eff = math.ceil(rows / math.ceil(rows / k))
    t_first = (L_dac + c_int) * NS
    t_last = t_first + (n - 1) * c_int * NS
    k0 = index_at(f_adc, t_first)
    k_last = max(index_at(f_adc, t_last), k0 + (n - 1) * k_eff * adc_ii)
    return edge_of(f_adc, k_last + k_eff * adc_lat)


@pytest.mark.parametrize("n, rows, k, f_adc, expected", [
    (1, 64, 8, 1.25e9, 48_000),    # ADC: edge 52 (41.6 ns) + 8 cycles = edge 60
    (3, 64, 8, 1.25e9, 128_000),   # last vector at 121 ns -> edge 152, + 8 = edge 160
    (5, 256, 64, 1.25e9, 297_600),  # ADC-bound: 52 + 4·64 + 64 = edge 372
    (4, 128, 16, 1.28e9, None),
    (7, 200, 3, 1.28e9, None),     # uneven sharing: 67 converters, k_eff = 3
    (2, 32, 4, 1e9, 85_000),       # one clock: 1 + 40 + 4·1 + (2-1)·40 cycles
])
def test_dac_tile_adc_closed_form(n, rows, k, f_adc, expected):
    cols = 48
    build = _mvm_chain(rows, cols, k, Clock("adc", f_adc))
    meta = {"sum_gv2": 12.5 * n}
    ends, rows_, _ = both_modes(build, [("forward", n, ("t0.dac", "t0.tile", "adc0"), meta)])
    assert ends[0] == _mvm_closed_form(n, rows, k, f_adc)
    if expected is not None:
        assert ends[0] == expected
    c = counts(rows_)
    assert c[("t0.dac", "convert")] == n * cols
    assert c[("t0.tile", "read")] == n
    assert c[("t0.tile", "read_cell")] == pytest.approx(12.5 * n)
    assert c[("adc0", "convert")] == n * rows


@pytest.mark.parametrize("n, k", [(1, 4), (3, 8), (6, 64), (2, 100)])
def test_single_clock_design_formula(n, k):
    """DESIGN.md: L_dac + L_array + k·L_adc + (n−1)·II_bottleneck, all at 1 GHz."""
    rows = 4 * k
    build = _mvm_chain(rows, 16, k, DIG)
    ends, _, _ = both_modes(build, [("backward", n, ("t0.dac", "t0.tile", "adc0"), {})])
    assert ends[0] == (1 + 40 + k * 1 + (n - 1) * max(40, k)) * NS


def test_shared_adc_serialises_two_tiles_and_parallel_banks_do_not():
    # rows 256, 64 lines per converter: ADC II = 64 cycles of 0.8 ns = 51.2 ns > 40 ns,
    # so the ADC is the bottleneck.  Both tiles' first vectors reach it at 41 ns -> edge 52.
    n = 4
    routes = [("t0.dac", "t0.tile", "adc0"), ("t1.dac", "t1.tile", "adc0")]
    ops = [("forward", n, r, {}) for r in routes]
    adck = Clock("adc", 1.25e9)
    shared = _mvm_chain(256, 32, 64, adck, n_adc=1, n_tiles=2)
    serial_end = (52 + (2 * n - 1) * 64 + 64) * 800            # 2n vectors back to back
    res = {}
    for mode in ("burst", "item"):
        ends, rows_, comps = simulate(shared, ops, mode)
        assert max(ends) == serial_end == 451_200
        res[mode] = (ends, rows_, comps["adc0"].stats["wait_ticks"])
    # burst serves the shared ADC per operation (FIFO): tile 0 first, then tile 1
    assert res["burst"][0] == [(52 + (n - 1) * 64 + 64) * 800, serial_end]
    # item mode interleaves vectors: tile 0's last vector is the (2n-1)-th conversion
    assert res["item"][0] == [(52 + (2 * n - 2) * 64 + 64) * 800, serial_end]
    assert res["burst"][1] == res["item"][1]
    # wait: 600 ps crossing alignment for tile 0, tile 1 waits from 41 ns to edge 308
    assert res["burst"][2] == 600 + (308 * 800 - 41_000)

    two_banks = _mvm_chain(256, 32, 64, adck, n_adc=2, n_tiles=2)
    ops2 = [("forward", n, ("t0.dac", "t0.tile", "adc0"), {}),
            ("forward", n, ("t1.dac", "t1.tile", "adc1"), {})]
    for mode in ("burst", "item"):
        ends, _, comps = simulate(two_banks, ops2, mode)
        assert ends == [(52 + (n - 1) * 64 + 64) * 800] * 2 == [246_400] * 2
        waits = [comps[p].stats["wait_ticks"] for p in ("adc0", "adc1")]
        # burst: only the 600 ps crossing alignment; item mode: vector j arrives at
        # (41 + 40j) ns and starts at edge 52 + 64j, waiting 600 + 11 200·j ps
        per_bank = 600 if mode == "burst" else sum(600 + 11_200 * j for j in range(n))
        assert waits == [per_bank, per_bank]
        assert max(waits) < res[mode][2]


# ------------------------------------------------------------------ pulse generator
def _update_chain(pg_clock=DIG, rng="lfsr", rows=64, cols=32):
    def build(led):
        return [mk(PulseGenerator, "pg", pg_clock, led, rng=rng,
                   kw={"rows": rows, "cols": cols, "pulse_width": 5e-9}),
                mk(Tile, "tile", DIG, led, rows=rows, cols=cols)]
    return build


@pytest.mark.parametrize("n", [1, 2, 32, 61])
def test_pulse_generator_update_same_clock(n):
    # setup 5.9 ns -> 6 cycles; slot 5 ns -> 5 cycles at both stages: end = 6 + 5n ns
    meta = {"row_slots": 3 * n, "col_slots": 2 * n, "pulses": 7 * n}
    ends, rows_, _ = both_modes(_update_chain(), [("update", n, ("pg", "tile"), meta)])
    assert ends[0] == (6 + 5 * n) * NS
    if n == 32:
        assert ends[0] == 166 * NS      # Rasch et al. 2024: 5.9 ns + 32 x 5 ns ≈ 166 ns
    c = counts(rows_)
    assert c[("pg", "pulse_slot")] == 5 * n
    assert c[("pg", "rng_draw")] == (64 + 32) * n       # one draw per line per slot
    assert c[("tile", "pulse")] == 7 * n


@pytest.mark.parametrize("n", [1, 9, 31])
def test_pulse_generator_on_1p28ghz_feeding_1ghz_tile(n):
    # PG at 781.25 ps: setup ceil(7.552) = 8 cycles, slot ceil(6.4) = 7 cycles (5.47 ns,
    # the bottleneck).  Tile (1 GHz, L = II = 5): first slot at edge_pg(8) = 6250 -> 7 ns.
    f = 1.28e9
    ends, _, _ = both_modes(_update_chain(Clock("pg", f)), [("update", n, ("pg", "tile"), {})])
    t_last_in = edge_of(f, 8 + 7 * (n - 1))
    k_last = max(index_at(1e9, t_last_in), 7 + 5 * (n - 1))
    assert ends[0] == (k_last + 5) * NS


def test_pulse_generator_back_to_back_samples_match_one_operation():
    # double-buffered preprocessing: samples of BL 5, 7, 4 as three operations end
    # exactly where one operation of 16 slots ends: 6 + 5·16 cycles
    ops = [("update", bl, ("pg", "tile"), {}) for bl in (5, 7, 4)]
    ends, _, _ = both_modes(_update_chain(), ops)
    assert ends == [(6 + 5 * 5) * NS, (6 + 5 * 12) * NS, (6 + 5 * 16) * NS]
    single, _, _ = both_modes(_update_chain(), [("update", 16, ("pg", "tile"), {})])
    assert single[0] == ends[-1]


def test_pulse_generator_serial_write_and_deterministic_rng():
    # serial_write: II = max_pulses·5 = 40 cycles at both stages: end = 6 + 40·n
    n = 3
    meta = {"max_pulses": 8, "pulses": 50}
    ends, rows_, _ = both_modes(_update_chain(rng="deterministic"),
                                [("serial_write", n, ("pg", "tile"), meta)])
    assert ends[0] == (6 + 40 * n) * NS
    c = counts(rows_)
    assert c[("pg", "pulse_slot")] == 50 and ("pg", "rng_draw") not in c
    _, rows_u, _ = both_modes(_update_chain(rng="deterministic"),
                              [("update", 4, ("pg", "tile"), {"rng_draws": 99})])
    assert ("pg", "rng_draw") not in counts(rows_u)


# -------------------------------------------------------------- wide digital blocks
@pytest.mark.parametrize("n, lanes, lat", [(1, 64, 1), (64, 64, 1), (65, 64, 1),
                                           (200, 7, 3), (130, 64, 0)])
def test_accumulator_lanes(n, lanes, lat):
    meta = {"compares": n, "writes": n // 10}
    build = lambda led: [mk(DigitalAccumulator, "acc", DIG, led, lanes=lanes, latency=lat,
                            bits=16)]
    ends, rows_, comps = both_modes(build, [("accumulate", n, ("acc",), meta)])
    assert ends[0] == (lat + math.ceil(n / lanes) - 1) * NS
    c = counts(rows_)
    assert c[("acc", "add")] == n and c[("acc", "compare")] == n
    assert c.get(("acc", "write"), 0) == n // 10 == c.get(("acc", "read"), 0)
    assert comps["acc"].stats["threshold_crossings"] == n // 10
    assert all(r["attrs"] == {"bits": 16} for r in rows_)


def test_digital_unit_shared_by_four_tiles():
    # four ops submitted at 0 on one unit (256 lanes, L = 2) run back to back:
    # op i ends at L + (C_0 + ... + C_i) − 1 cycles, C = ceil(n/256)
    sizes = [300, 256, 1, 1000]
    build = lambda led: [mk(DigitalUnit, "du", DIG, led)]
    kinds_ = ["activation", "loss_grad", "partial_sum", "pca"]
    ops = [("digital", n, ("du",), {"kind": k}) for n, k in zip(sizes, kinds_)]
    ends, rows_, comps = both_modes(build, ops)
    cum = 0
    for n, end in zip(sizes, ends):
        cum += math.ceil(n / 256)
        assert end == (2 + cum - 1) * NS
    by_kind = {r["attrs"]["function"]: r["count"] for r in rows_}
    assert by_kind == dict(zip(kinds_, sizes))
    assert comps["du"].stats["ops"] == sum(sizes)
    assert comps["du"].stats["wait_ticks"] == (2 + 3 + 4) * NS   # ops 1..3 wait behind 0..i-1


@pytest.mark.parametrize("n", [1, 2, 40, 256])
def test_chopper_flips_all_lines_in_one_cycle(n):
    build = lambda led: [mk(Chopper, "chop", DIG, led, latency=2, outputs=True,
                            kw={"rows": 128, "cols": 128})]
    ends, rows_, _ = both_modes(build, [("flip", n, ("chop",), {}), ("flip", n, ("chop",), {})])
    assert ends == [2 * NS, 3 * NS]            # L = 2; the second flip starts 1 cycle later
    assert counts(rows_)[("chop", "flip")] == 2 * n


def test_chopper_rejects_more_flips_than_lines():
    build = lambda led: [mk(Chopper, "chip.t0.chop", DIG, led, kw={"rows": 8, "cols": 16})]
    with pytest.raises(SimulationError, match="chip.t0.chop: flip of 17 lines"):
        simulate(build, [("flip", 17, ("chip.t0.chop",), {})], "burst")


@pytest.mark.parametrize("nbytes, bw, lat", [(1, 64, 1), (64, 64, 1), (1000, 64, 1),
                                             (100, 1.5, 2), (7, 3, 0)])
def test_buffer_bandwidth(nbytes, bw, lat):
    build = lambda led: [mk(Buffer, "buf", DIG, led, bandwidth=bw, latency=lat)]
    for op, action in (("buffer_read", "read_bit"), ("buffer_write", "write_bit")):
        ends, rows_, _ = both_modes(build, [(op, nbytes, ("buf",), {})])
        assert ends[0] == (lat + math.ceil(Fraction(nbytes) / Fraction(bw)) - 1) * NS
        assert rows_ == [{"path": "buf", "kind": "Buffer", "action": action, "phase": op,
                          "attrs": {"technology": "sram"}, "count": 8 * nbytes}]


def test_buffer_capacity_is_checked():
    build = lambda led: [mk(Buffer, "chip.gbuf", DIG, led, capacity=1024.0)]
    simulate(build, [("buffer_read", 1024, ("chip.gbuf",), {})], "burst")
    with pytest.raises(SimulationError, match=r"chip\.gbuf: 'buffer_write' of 2048 B exceeds"):
        simulate(build, [("buffer_write", 4, ("chip.gbuf",), {"bytes": 2048})], "burst")


@pytest.mark.parametrize("nbytes, hops, hop_lat", [(1, 1, 2), (1000, 3, 2), (33, 2, 0)])
def test_buffer_to_buffer_over_interconnect(nbytes, hops, hop_lat):
    # read (64 B/cycle, L 1) -> network (32 B/cycle) -> write (64 B/cycle, L 1).  The
    # network is the bottleneck: end = 1 + hops·hop_latency + ceil(B/32) + 1 cycles.
    def build(led):
        return [mk(Buffer, "src", DIG, led), mk(Buffer, "dst", DIG, led),
                mk(Interconnect, "noc", DIG, led, hops=hops, hop_latency=hop_lat)]
    ends, rows_, comps = both_modes(build, [("transfer", nbytes, ("src", "noc", "dst"), {})])
    assert ends[0] == (1 + hops * hop_lat + math.ceil(nbytes / 32) + 1) * NS
    c = counts(rows_)
    # flits of 32 B (ISAAC 256-bit flit, the default flit_bytes), one router action per hop
    assert c == {("src", "read_bit"): 8 * nbytes, ("noc", "transfer_bit"): 8 * nbytes * hops,
                 ("noc", "flit_hop"): math.ceil(nbytes / 32) * hops,
                 ("dst", "write_bit"): 8 * nbytes}
    assert comps["dst"].stats["bytes_written"] == nbytes == comps["noc"].stats["bytes_moved"]


@pytest.mark.parametrize("n, nbytes", [(4, 100), (4, 10), (3, 96), (5, 1)])
def test_interconnect_vectors_with_meta_bytes(n, nbytes):
    # two messages back to back: ends Hh + C and Hh + 2C, C = ceil(bytes/32), H·h = 2
    build = lambda led: [mk(Interconnect, "noc", DIG, led)]
    ops = [("transfer", n, ("noc",), {"bytes": nbytes})] * 2
    ends, rows_, _ = both_modes(build, ops)
    c = math.ceil(nbytes / 32)
    assert ends == [(2 + c) * NS, (2 + 2 * c) * NS]
    assert counts(rows_)[("noc", "transfer_bit")] == 2 * 8 * nbytes


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), per_item=st.sampled_from([1, 2, 8, 64]),
       bws=st.lists(st.sampled_from([1, 2, 4, 32, 64]), min_size=3, max_size=3),
       hop_lat=st.integers(0, 3), lat=st.integers(0, 2))
def test_wide_blocks_burst_equals_item_mode(n, per_item, bws, hop_lat, lat):
    """Exact domain of the wide-block burst model (lanes.py): items never straddle a cycle
    boundary (item size and width divide one another) and no stage is faster than both
    of its neighbours (such a starved stage emits an irregular stream; item mode is then
    the reference)."""
    bw_src, bw_noc, bw_dst = bws
    assume(not (bw_noc > bw_src and bw_noc > bw_dst))

    def build(led):
        return [mk(Buffer, "src", DIG, led, bandwidth=bw_src, latency=lat),
                mk(Interconnect, "noc", DIG, led, bandwidth=bw_noc, hop_latency=hop_lat),
                mk(Buffer, "dst", DIG, led, bandwidth=bw_dst, latency=lat)]
    nbytes = n * per_item
    ends, _, _ = both_modes(build, [("transfer", n, ("src", "noc", "dst"), {"bytes": nbytes})])
    slowest = min(bws)
    lower = (lat + hop_lat + 1 + lat) + math.ceil(nbytes / slowest) - 1
    assert ends[0] >= lower * NS


# ------------------------------------------------------------------- declarations
def test_every_block_declares_ports_actions_ops_and_rejects_other_ops():
    led = ActionLedger()
    for name in ("PulseGenerator", "Chopper", "DigitalAccumulator", "Buffer", "DigitalUnit",
                 "Interconnect"):
        cls = kinds()[name]
        assert cls.PORTS and cls.ACTIONS and cls.OPS and cls.Params is not None
        comp = mk(cls, f"chip.{name.lower()}", DIG, led)
        assert isinstance(comp.area_attrs(), dict) and comp.area_attrs()
        with pytest.raises(SimulationError, match=f"chip.{name.lower()}: {name} cannot"):
            simulate(lambda _l, c=cls, p=f"chip.{name.lower()}": [mk(c, p, DIG, _l)],
                     [("no_such_op", 1, (f"chip.{name.lower()}",), {})], "burst")
