"""The NumPy twin of the kernels' ziggurat draws the same normals from the same words.

Reference: the compiled sampler itself (``hwsim._ext.quantize.standard_normal_fill``)
and the bit generator's state after it, which must be identical (same words consumed,
same buffered 32-bit half)."""
import numpy as np
import pytest

from hwsim.physics import quantize as qz
from hwsim.physics import ziggurat as zg

ext = pytest.importorskip("hwsim._ext.quantize")


def test_tables_equal_the_kernel_tables():
    np.testing.assert_array_equal(zg.ZIG_X, ext.ziggurat_table())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 2, 3, 35, 511, 20_001])
@pytest.mark.parametrize("odd_start", [False, True])
def test_same_numbers_and_same_state(seed, n, odd_start):
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    if odd_start:                    # one 32-bit draw: the generator holds a buffered half
        a.integers(0, 7, dtype=np.uint32)
        b.integers(0, 7, dtype=np.uint32)
    kern = np.empty((1, n))
    ext.standard_normal_fill(a.bit_generator, kern)
    twin = zg.normals(b, (n,))
    np.testing.assert_array_equal(kern.ravel(), twin)
    assert a.bit_generator.state == b.bit_generator.state
    assert a.random() == b.random()


def test_rejections_and_tail_are_exercised():
    # 200 000 draws: ~1 % rejections and ~40 beyond R = 3.654 (P(|Z|>R) = 2.6e-4)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    kern = np.empty((1, 200_000))
    ext.standard_normal_fill(a.bit_generator, kern)
    twin = zg.normals(b, (200_000,))
    np.testing.assert_array_equal(kern.ravel(), twin)
    assert np.sum(np.abs(twin) > zg.ZIG_R) > 10


def test_backends_draw_the_same_noise():
    x = np.random.default_rng(0).uniform(-1, 1, (6, 9))
    res = []
    for use_ext in (True, False):
        rng = np.random.default_rng(4)
        v, _ = qz.dac_stage(x, np.ones(6), 1.0, 1 / 63, 63.0, 0.05, None, rng, np.zeros(9),
                            use_ext)
        y, sat, flags = qz.adc_stage(np.ascontiguousarray(v[:, :5]), np.full(6, 0.1), None, rng, 1.0, 1 / 127, 127.0,
                                     np.ones(6), use_ext)
        res.append((v, y, sat, rng.random()))
    for p, q in zip(*res):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(qz.standard_normal(np.random.default_rng(1), (4, 3)),
                                  qz.standard_normal(np.random.default_rng(1), (4, 3),
                                                     backend="numpy"))


def test_other_bit_generators_fall_back_to_numpy():
    z = zg.normals(np.random.Generator(np.random.MT19937(1)), (5,))
    assert z.shape == (5,) and np.all(np.isfinite(z))
