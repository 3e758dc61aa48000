"""The NumPy backend of the MVM periphery equals the Cython backend bit for bit — noise,
bound-management repeats, line sums and the read-energy statistic included — also for
wide arrays (row sums over > 128 columns, where ``ndarray.sum`` adds pairwise) and
single columns.  Reference: the Cython kernels (``hwsim._ext.quantize``)."""
import numpy as np
import pytest

from hwsim.config.periphery import MVMConfig
from hwsim.physics import quantize as qz
from hwsim.physics.periphery import abs_column_sums, abs_line_sums, mvm

pytest.importorskip("hwsim._ext.quantize")

CONFIGS = {
    "default": MVMConfig(),                                      # out noise, iterative BM
    "noisy in": MVMConfig(inp_noise=0.02, out_bound=2.0),        # many BM repeats
    "w noise": MVMConfig(w_noise=0.02),
    "w noise rel": MVMConfig(w_noise=0.05, w_noise_type="relative", out_bound=3.0),
    "no nm": MVMConfig(noise_management="none", inp_noise=0.01),
    "omega": MVMConfig(omega=0.6),
}


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("shape", [(32, 784), (257, 3), (5, 1), (1, 300)])
@pytest.mark.parametrize("transposed", [False, True])
def test_mvm_bitwise(name, shape, transposed):
    m, n = shape
    g = np.random.default_rng(7)
    w = g.uniform(-1, 1, shape) * np.exp(g.normal(0, 1, shape))
    x = g.uniform(-1, 1, (6, m if transposed else n))
    out = []
    for backend in ("cython", "numpy"):
        rng = np.random.default_rng(11)
        y, st = mvm(w, x, CONFIGS[name], rng, transposed=transposed, backend=backend)
        out.append((y, tuple(st), rng.bit_generator.state))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    assert out[0][1] == out[1][1]
    assert out[0][2] == out[1][2]


@pytest.mark.parametrize("shape", [(1000, 1), (3, 1001), (130, 129), (7, 7)])
def test_line_sums_bitwise(shape):
    g = np.random.default_rng(3)
    w = g.normal(size=shape) * np.exp(g.normal(0, 4, shape))
    for transposed in (False, True):
        np.testing.assert_array_equal(abs_line_sums(w, transposed, "cython"),
                                      abs_line_sums(w, transposed, "numpy"))
    cols = np.array([shape[1] - 1, 0])
    np.testing.assert_array_equal(abs_column_sums(w, cols, "cython"),
                                  abs_column_sums(w, cols, "numpy"))


def test_square_sums_accumulate_in_row_order():
    # sq_sums is carried across bound-management passes: the NumPy twin must add row by
    # row onto the running sums, as the kernel does, not add a pairwise column sum
    g = np.random.default_rng(5)
    x = g.normal(size=(2000, 1)) * np.exp(g.normal(0, 5, (2000, 1)))
    res = []
    for use_ext in (True, False):
        sq = np.full(1, 123.456)
        qz.dac_stage(x, np.ones(2000), 1e30, 0.0, 0.0, 0.0, None, None, sq, use_ext)
        res.append(sq)
    np.testing.assert_array_equal(*res)
