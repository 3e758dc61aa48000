"""The statistics model of symbolic mode, by hand, on one 8 × 4 layer (M = 8, N = 4),
one mini-batch of 10 samples: every expected count below is worked out in the comment
beside it from the formulas of hwsim/training/algorithms/symbolic.py."""
import pytest

from hwsim.trace.format import Step, TraceReader
from hwsim.training.trace_generate import generate_trace

LAYER = [{"name": "fc", "kind": "linear", "out_features": 8, "in_features": 4,
          "vectors_per_sample": 1}]
# dense statistics: E|x̂| = E|d̂| = (1 − 0)/2 = 1/2; a quarter of threshold elements fire
DENSE = {"input_sparsity": 0.0, "error_sparsity": 0.0, "g_mean": 0.5, "bl": 2,
         "pulse_type": "stochastic", "h_write": 0.25, "pulses_per_write": 1}


def _ops(tmp_path, alg, **params):
    t = generate_trace(LAYER, 10, 1, alg, out=tmp_path / f"{alg}.jsonl.gz", **{**DENSE, **params})
    return [o for o in TraceReader(t) if not isinstance(o, Step)]


def _only(ops, op, role=None, phase=None):
    found = [o for o in ops if o.op == op and role in (None, o.role) and phase in (None, o.phase)]
    assert len(found) == 1, found
    return found[0].n, found[0].meta_dict()


def test_mixed_precision_parallel_and_serial_writes(tmp_path):
    ops = _ops(tmp_path, "mixed-precision", write="parallel")
    n, m = _only(ops, "accumulate")
    assert n == 32 and m == {"compares": 32, "writes": 8}         # 8·4 elements, 32·0.25
    n, m = _only(ops, "update")
    # n = ppw = 1 slot; rows hit 8·(1 − 0.75⁴) = 5.47 → 5; columns 4·(1 − 0.75⁸) = 3.60 → 4
    assert n == 1 and m == {"pulses": 8, "row_slots": 5, "col_slots": 4, "rng_draws": 0}
    ops = _ops(tmp_path, "mixed-precision", write="serial")
    n, m = _only(ops, "serial_write")
    assert n == 5 and m == {"pulses": 8, "max_pulses": 1, "row_slots": 8, "col_slots": 0}
    assert _only(ops, "digital", phase="update")[0] == 10 * 32       # χ += −η dᵀx: B·M·N


def test_hic_programs_m_and_reads_the_written_columns(tmp_path):
    ops = _ops(tmp_path, "hic")
    assert [o.role for o in ops if o.op == "forward"] == ["B", "M"]
    assert _only(ops, "accumulate")[1]["writes"] == 8
    assert _only(ops, "serial_write") == (5, {"pulses": 8, "max_pulses": 1})
    assert _only(ops, "read_column")[0] == 4                        # round(3.60) columns
    # forward: sum_gv2 = V·M·N·g·(1 − s)/3 = 10·32·0.5/3 per array
    fwd = [o for o in ops if o.op == "forward"]
    assert fwd[0].meta_dict()["sum_gv2"] == pytest.approx(10 * 32 * 0.5 / 3)


def test_sbpca_macs_and_rank_k_update(tmp_path):
    ops = _ops(tmp_path, "sbpca")
    # k = min(4, 8, 4) = 4, one sub-batch of 10 rows (m = 32 > 10):
    # init 10·4·(2·4 + 2·8 + 1) + qr(8, 4) = 1000 + (8·16 − ⌊64/3⌋) = 1107
    # step 10·4·(3·8 + 2·4 + 1) + 2·4·12 + 2·4 + qr(4, 4) + qr(8, 4) = 1320 + 96 + 8 + 43 + 107
    kinds = [(o.meta_dict()["kind"], o.n) for o in ops if o.op == "digital" and o.phase == "update"]
    assert kinds == [("pca", 1107 + 1574), ("scale", 4 * (8 + 4))]    # then k·(M + N) scalings
    n, m = _only(ops, "update")
    # 4 rank-1 rows × BL 2 = 8 slots; dense factors q = 1/2: 8·32/4, 8·8/2, 8·4/2
    assert n == 8 and m == {"pulses": 64, "row_slots": 32, "col_slots": 16, "samples": 4,
                            "rng_draws": 0}


def test_tiki_taka_v1_transfers_one_hot_columns(tmp_path):
    ops = _ops(tmp_path, "tiki-taka", auto_scale=False)
    reads = [o.n for o in ops if o.op == "read_column"]
    assert reads == [4, 4, 2]                   # 10 vector updates, 1 read each, N = 4 columns
    ups = [(o.n, o.meta_dict()) for o in ops if o.op == "update" and o.role == "C"]
    # k one-hot rows × BL 2 slots; x̂ one-hot: q_x = 1/4; v dense: q_d = 1/2
    assert [n for n, _ in ups] == [8, 8, 4]
    assert ups[0][1] == {"pulses": 8 * 32 // 8, "row_slots": 8 * 4, "col_slots": 8 * 1,
                         "samples": 4, "rng_draws": 0}


def test_random_flips_are_the_carried_expectation(tmp_path):
    ops = _ops(tmp_path, "c-ttv2", in_chop_prob=0.25)
    # 10 reads × p = 0.25 → 2.5 expected flips: issued whole, 1 + 1 (after 4 and 8 reads)
    assert sum(o.n for o in ops if o.op == "flip") == 2
