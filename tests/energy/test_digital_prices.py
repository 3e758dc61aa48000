"""The digital work of graph networks priced from Horowitz (ISSCC 2014) arithmetic: each
derived row equals its stated count of mults and adds of the same table, and the
floating-point rows are the paper's figures."""
import pytest

from hwsim.energy import TechnologyTable

pJ = 1e-12
#: (function, mults, adds) per elementary operation, as the tables' sources derive them
COUNTS = [("matmul", 1, 1), ("exp", 2, 1), ("softmax", 3, 4), ("layernorm", 3, 4),
          ("gelu", 1, 1), ("embedding", 0, 1), ("pool", 0, 1), ("mean", 0, 1)]


@pytest.mark.parametrize("table", ["32nm_isaac", "45nm_horowitz_digital", "hermes_cco"])
@pytest.mark.parametrize("function,mults,adds", COUNTS)
def test_derived_rows_are_their_mults_and_adds(table, function, mults, adds):
    t = TechnologyTable.load(table)
    op = {"bits": 16}
    mult = t.price("DigitalUnit", "op", {"function": "mult", **op})
    add = t.price("DigitalUnit", "op", {"function": "add", **op})
    assert t.price("DigitalUnit", "op", {"function": function, **op}) == \
        pytest.approx(mults * mult + adds * add, rel=1e-12)


def test_horowitz_figures():
    t = TechnologyTable.load("45nm_horowitz_digital")

    def price(function, bits):
        return t.price("DigitalUnit", "op", {"function": function, "bits": bits})
    # Horowitz 2014 (45 nm): FP16 add 0.4 pJ, mult 1.1 pJ; FP32 add 0.9 pJ, mult 3.7 pJ;
    # int8 MAC = 0.2 + 0.03 pJ, int32 MAC = 3.1 + 0.1 pJ
    assert (price("fp_add", 16), price("fp_mult", 16)) == (pytest.approx(0.4 * pJ),
                                                           pytest.approx(1.1 * pJ))
    assert (price("fp_add", 32), price("fp_mult", 32)) == (pytest.approx(0.9 * pJ),
                                                           pytest.approx(3.7 * pJ))
    assert price("fp_mac", 32) == pytest.approx(4.6 * pJ)
    assert price("matmul", 8) == pytest.approx(0.23 * pJ)
    assert price("matmul", 32) == pytest.approx(3.2 * pJ)


def test_other_widths_scale_as_multipliers():
    # a multiplier-dominated function scales with width² from the nearest listed row
    # (32nm_isaac lists 16 bits: 8 bits is a quarter)
    t = TechnologyTable.load("32nm_isaac")
    p16 = t.price("DigitalUnit", "op", {"function": "softmax", "bits": 16})
    assert t.price("DigitalUnit", "op", {"function": "softmax", "bits": 8}) == \
        pytest.approx(p16 / 4)
