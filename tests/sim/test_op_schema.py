"""The op schema (hwsim.core.ops): ops are validated against it, blocks read their fields
through it, and an op kind declared here only — no other file touched — validates, is
timed and priced, and round-trips through a trace (record, read, replay)."""
import gzip
import json
import zlib
from pathlib import Path

import pytest

from hwsim.config.accelerator import load_accelerator
from hwsim.core import Transaction, kinds
from hwsim.core import ops
from hwsim.core.ops import CELLS, Field, OpKind
from hwsim.elaborate.graph import build_machine
from hwsim.elaborate.mapping import map_layers
from hwsim.errors import SimulationError, TraceError
from hwsim.api import replay
from hwsim.sim.hardware import Hardware
from hwsim.sim.program import Op, Program
from hwsim.trace.format import Step, TraceReader, TraceWriter
from hwsim.trace.replay import run_trace

ROOT = Path(__file__).resolve().parents[2]
ACC = str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml")
LAYERS = [{"name": "fc", "kind": "linear", "out_features": 40, "in_features": 300,
           "vectors_per_sample": 1}]
HEADER = {"network": LAYERS, "batch": 4, "algorithm": "sgd", "roles": ["W"],
          "source": "test"}

# a read-back of programmed weights: n vectors through the forward path of the tiles
VERIFY = OpKind("verify_read", "vectors", "read-back after programming (a test's own kind)", (
    Field("sum_gv2", "1", "Σ ĝ·v̂² read-energy units", 0.0, split=CELLS),
    Field("mismatches", "weights", "weights off target (a value statistic)", 0)),
    performs="forward")


@pytest.fixture
def verify():
    ops.declare(VERIFY)
    yield VERIFY
    ops.undeclare(VERIFY.name)


def _hw(cache=False):
    acc = load_accelerator(ACC)
    mapping = map_layers([("fc", 40, 300)], ("W",), acc.tile.rows, acc.tile.cols,
                         acc.tile.count)
    return Hardware(build_machine(acc), mapping, cache=cache)


def test_unknown_field_is_an_error_never_zero_joules():
    with pytest.raises(SimulationError, match="unknown field.*'sum_gv'"):
        Program().append(Op("forward", 4, "fc", "W", "forward", (("sum_gv", 1.0),)))
    hw = _hw()
    with pytest.raises(SimulationError, match="unknown field.*'pulse'"):
        hw.update("fc", 3, pulse=10)                 # a misspelt keyword of the ops API
    with pytest.raises(SimulationError, match="unknown op kind 'fwd'"):
        Program().append(Op("fwd", 1))
    with pytest.raises(SimulationError, match="needs field.*max_pulses"):
        hw.serial_write("fc", 2, pulses=3)           # required field missing
    with pytest.raises(SimulationError, match="unknown field.*'lines_in'"):
        hw.forward("fc", 1, lines_in=5)              # set per tile by the hardware only


def test_blocks_read_declared_defaults_and_refuse_undeclared_names():
    txn = Transaction(op="accumulate", n=8, route=(), meta={"writes": 3}, n_total=8)
    assert ops.field(txn, "compares") == 8           # default: n (every element tested)
    assert ops.field(txn, "reads") == 3              # default: the writes
    fwd = Transaction(op="forward", n=2, route=(), meta={}, n_total=2)
    assert ops.field(fwd, "sum_gv2") == 0.0
    assert ops.field(fwd, "lines_out", 7) == 7       # the block's own geometry
    with pytest.raises(SimulationError, match="no field 'sum_gv22'"):
        ops.field(fwd, "sum_gv22")                   # a misspelt read fails loudly


def test_every_block_operation_is_declared():
    for name, cls in kinds().items():
        for op in cls.OPS:
            assert ops.get(op).performs == op, (name, op)


def test_trace_statistics_and_memo_key_derive_from_the_schema(tmp_path):
    with TraceWriter(tmp_path / "t.jsonl.gz", HEADER) as w:
        w.record(Op("forward", 2, "fc", "W", "forward", (("sum_gv2", 1.0),)))
    hdr = TraceReader(tmp_path / "t.jsonl.gz").header
    assert hdr["statistics"] == ops.statistics()
    assert hdr["statistics"]["update"] == ["pulses", "row_slots", "col_slots", "samples",
                                           "rng_draws"]
    # no block reads bm_repeats (n already counts the repeats): a value field, not keyed
    assert "bm_repeats" in ops.value_fields() and "max_pulses" not in ops.value_fields()


def test_trace_with_an_unknown_field_is_a_trace_error_naming_the_line(tmp_path):
    lines = [json.dumps(["update", 3, "fc", "W", "update", {"pulses": 1, "pulsez": 2}])]
    body = "".join(x + "\n" for x in lines)
    footer = {"ops": 1, "steps": 0, "samples": 0, "crc32": zlib.crc32(body.encode())}
    path = tmp_path / "bad.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps({"format": "hwsim-trace", "version": 1, **HEADER}) + "\n")
        fh.write(body + json.dumps(["end", footer]) + "\n")
    with pytest.raises(TraceError, match="pulsez") as err:
        list(TraceReader(path))
    assert err.value.line == 2


def test_a_new_op_kind_validates(verify):
    Program().append(Op("verify_read", 4, "fc", "W", "forward",
                        (("mismatches", 2), ("sum_gv2", 9.0))))
    with pytest.raises(SimulationError, match="unknown field.*'adc_saturations'"):
        Program().append(Op("verify_read", 4, "fc", "W", "forward",
                            (("adc_saturations", 1),)))
    assert ops.statistics()["verify_read"] == ["sum_gv2", "mismatches"]


@pytest.mark.parametrize("cache", [False, True])
def test_a_new_op_kind_is_timed_and_priced_like_the_operation_it_performs(verify, cache):
    new, ref = _hw(cache), _hw()
    for _ in range(3):                               # the memo re-applies repeated ops
        new.op("verify_read", 4, "fc", "W", "forward", sum_gv2=12.0, mismatches=1)
        new.digital("activation", 40, layer="fc")    # ops between: the memo sees repeats
        ref.forward("fc", 4, sum_gv2=12.0)
        ref.digital("activation", 40, layer="fc")
    t_new, t_ref = new.flush(), ref.flush()
    # 300 inputs on 256-column tiles: 2 tiles (256 + 44 columns) in parallel; the
    # forward path of cttv2_tile: 40 ns integration per vector -> > 4·40 ns each op
    assert t_new == t_ref > 3 * 4 * 40_000
    new.sync(), ref.sync()
    assert new.machine.ledger.rows() == ref.machine.ledger.rows()
    # priced: Σĝv̂² split by cells (256·40 and 44·40 of 300·40) over the three ops
    cells = [c for k, c in new.machine.ledger.items() if k.action == "read_cell"]
    assert sorted(cells) == pytest.approx(sorted([3 * 12.0 * 44 / 300, 3 * 12.0 * 256 / 300]))
    if cache:
        assert new.memo_stats()["hits"] >= 1


def test_a_new_op_kind_round_trips_through_a_trace(verify, tmp_path):
    hw = _hw()
    path = tmp_path / "v.jsonl.gz"
    hw.recorder = TraceWriter(path, HEADER)
    hw.op("verify_read", 4, "fc", "W", "forward", sum_gv2=12.0, mismatches=1)
    hw.forward("fc", 4, sum_gv2=3.0)
    hw.end_step(4)
    ticks = hw.flush()
    hw.recorder.close()
    items = list(TraceReader(path))
    assert items[0] == Op("verify_read", 4, "fc", "W", "forward",
                          (("mismatches", 1), ("sum_gv2", 12.0)))
    assert items[-1] == Step(0, 4)
    replayed, _reader = run_trace(load_accelerator(ACC), path, progress=False)
    assert replayed.now == ticks > 0
    assert replayed.machine.ledger.rows() == hw.machine.ledger.rows()
    rep = replay(ACC, path, progress=False)        # and the report prices it
    assert rep["latency"]["total_ticks"] == ticks and rep["energy"]["total_J"] > 0


def test_the_trace_format_documents_the_schema():
    """traces/README.md embeds the table generated from the schema (one declaration)."""
    assert ops.markdown() in (ROOT / "traces" / "README.md").read_text()
