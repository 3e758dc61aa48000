"""The fused χ kernel of mixed precision (cython_ext/digital_accumulator.pyx).

Oracle: ``hwsim.training.digital_accumulator.chi_update_numpy`` (the NumPy code the
algorithm ran before the kernel) — the two must agree BIT FOR BIT (compared on the raw
float64 bits, so −0.0 ≠ +0.0), and the algorithm must issue the same hardware ops.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hwsim.config.accelerator import AcceleratorConfig
from hwsim.devices import DeviceConfig
from hwsim.config.experiment import TrainingConfig
from hwsim.config.params import build_section
from hwsim.errors import BackendError
from hwsim.training import digital_accumulator as da
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.runner import Context


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint64)


def _isas():
    """Every copy of the kernel's row loop this CPU can run (baseline, AVX2, AVX-512)."""
    ext = da.kernels()
    best = ext.ISAS.index(ext.isa("best"))
    return ext.ISAS[:best + 1]


def _run_backend(backend, chi, grad, coef, eps, isa="best", **kw):
    c = chi.copy()
    acc = np.linspace(-1e-3, 1e-3, chi.size).reshape(chi.shape)
    wr = -acc
    da.kernels().isa(isa)
    try:
        res = da.chi_update(c, grad, coef, acc, wr, eps, backend=backend, **kw)
    finally:
        da.kernels().isa("best")
    return res, c, acc, wr


def _both(chi, grad, coef, eps, **kw):
    """The oracle first, then the kernel with every row-loop copy, on the same state."""
    out = [_run_backend("numpy", chi, grad, coef, eps, **kw)]
    out += [_run_backend("cython", chi, grad, coef, eps, isa=i, **kw) for i in _isas()]
    return out


def _assert_identical(runs):
    r2, c2, a2, w2 = runs[0]                              # the NumPy oracle
    assert np.array_equal(r2.row_max, np.abs(r2.counts).max(axis=1))
    assert r2.writes == int(np.count_nonzero(r2.counts))
    for r1, c1, a1, w1 in runs[1:]:
        for x, y in ((c1, c2), (a1, a2), (w1, w2)):
            assert np.array_equal(_bits(x), _bits(y))
        assert r1.counts.dtype == r2.counts.dtype == np.int64
        assert np.array_equal(r1.counts, r2.counts)
        assert r1.writes == r2.writes
        assert np.array_equal(r1.row_max, r2.row_max)


def _hard_inputs(rng, shape, eps, lsb):
    """χ / grad with ties, exact multiples of ε, ±0, big values and saturation."""
    m, n = shape
    chi = rng.uniform(-3 * eps, 3 * eps, shape)
    chi.flat[::7] = -0.0
    chi.flat[1::7] = 0.0
    chi.flat[2::11] = (rng.integers(-40, 40, chi.flat[2::11].size) + 0.5) * lsb  # exact ties
    grad = rng.normal(0, 1, shape)
    grad.flat[::5] = 0.0
    grad.flat[3::13] = -0.0
    grad.flat[4::17] *= 1e6                          # saturates χ and the pulse clip
    grad.flat[5::19] = rng.integers(-50, 50, grad.flat[5::19].size) * 1.0  # n·ε exactly
    return chi, grad


@pytest.mark.parametrize("chi_bits,frac", [(0, 8), (1, 0), (2, 0), (4, 1), (8, 8), (16, 6),
                                           (32, 8), (52, 20), (64, 8), (64, 62)])
@pytest.mark.parametrize("max_pulses", [1, 31, 1000, 2 ** 40])
def test_kernel_bitwise_equals_numpy(chi_bits, frac, max_pulses):
    rng = np.random.default_rng(chi_bits * 1000 + frac + max_pulses)
    eps = 0.00137
    lsb = eps / (1 << frac)
    chi, grad = _hard_inputs(rng, (37, 53), eps, lsb)
    for coef in (-0.01 * eps, -eps, 3.0 * eps, -0.0):
        pair = _both(chi, grad, coef, eps, chi_bits=chi_bits, chi_frac_bits=frac,
                     max_pulses=max_pulses)
        _assert_identical(pair)


def test_fc1_shape_over_many_batches_bitwise():
    """256×784 (the MNIST fc1), χ carried over 5 batches, both backends in lock step."""
    rng = np.random.default_rng(1)
    eps, shape = 0.002, (256, 784)
    states = {b: [np.zeros(shape) for _ in range(3)] for b in ("cython", "numpy")}
    for _ in range(5):
        grad = rng.normal(0, 0.3, shape) * (rng.random(shape) < 0.5)
        res = {}
        for b, (chi, acc, wr) in states.items():
            res[b] = da.chi_update(chi, grad, -0.01, acc, wr, eps, chi_bits=32,
                                   chi_frac_bits=8, max_pulses=31, backend=b)
        assert res["cython"].writes == res["numpy"].writes > 0
        assert np.array_equal(res["cython"].counts, res["numpy"].counts)
        assert np.array_equal(res["cython"].row_max, res["numpy"].row_max)
        for x, y in zip(states["cython"], states["numpy"]):
            assert np.array_equal(_bits(x), _bits(y))


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 9), n=st.integers(1, 9), seed=st.integers(0, 2 ** 32 - 1),
       chi_bits=st.sampled_from([0, 1, 3, 8, 16, 32, 64]), frac=st.integers(0, 12),
       max_pulses=st.integers(1, 40), log_scale=st.floats(-4, 4),
       eps=st.floats(1e-6, 1.0))
@example(m=1, n=1, seed=0, chi_bits=3, frac=12, max_pulses=1, log_scale=0.0, eps=1e-6)
@example(m=6, n=3, seed=1103069238, chi_bits=16, frac=0, max_pulses=19,
         log_scale=1.7075205323406673, eps=0.08721513755924357)      # |χ| = ε within an ulp
def test_property_bitwise_and_invariants(m, n, seed, chi_bits, frac, max_pulses, log_scale,
                                         eps):
    rng = np.random.default_rng(seed)
    grad = rng.normal(0, 10.0 ** log_scale, (m, n)) * eps
    chi = np.zeros((m, n))
    pair = _both(chi, grad, -1.0, eps, chi_bits=chi_bits, chi_frac_bits=frac,
                 max_pulses=max_pulses)
    _assert_identical(pair)
    res, c, acc, wr = pair[-1]
    acc0 = np.linspace(-1e-3, 1e-3, m * n).reshape(m, n)
    assert np.all(np.abs(res.counts) <= max_pulses)
    # books: what χ received = what is still in χ + what was moved into pulses
    np.testing.assert_allclose((acc - acc0) - (wr + acc0), c, rtol=1e-12, atol=1e-12 * eps)
    if chi_bits:
        lsb = eps / (1 << frac)
        top = (2.0 ** (chi_bits - 1) - 1) * lsb
        received = acc - acc0       # recovered up to the rounding of acc0 + received
        slack = 4 * np.spacing(1e-3)                               # |acc0| ≤ 1e-3
        assert np.all(np.abs(received) <= top * (1 + 1e-12) + slack)   # saturating word
        q = received / lsb
        assert np.all(np.abs(q - np.round(q)) <= 1e-9 * np.maximum(1.0, np.abs(q))
                      + slack / lsb)
    # below the pulse clip every element ≥ ε was written: |χ| < ε afterwards, up to the
    # rounding of χ − n·ε with n = trunc(χ/ε): when χ/ε rounds just below an integer the
    # residue is ε within an ulp (hypothesis found |χ| = ε·(1 + 3e-16), m=6, n=3, ε≈0.087)
    free = np.abs(res.counts) < max_pulses
    assert np.all(np.abs(c[free]) < eps * (1 + 1e-12))


def test_analytic_values():
    """ε = 0.25 (exact in binary): hand-computed χ, counts, row maxima."""
    eps = 0.25
    chi = np.array([[0.0, 0.1, -0.1], [0.0, 0.0, 0.0]])
    grad = np.array([[0.6, 0.2, -0.2], [-10.0, 0.125, 0.0]])
    for backend in ("cython", "numpy"):
        c, acc, wr = chi.copy(), np.zeros((2, 3)), np.zeros((2, 3))
        # float χ: s = χ + g; n = trunc(s/ε) clipped to ±3
        r = da.chi_update(c, grad, 1.0, acc, wr, eps, chi_bits=0, chi_frac_bits=0,
                          max_pulses=3, backend=backend)
        assert r.counts.tolist() == [[2, 1, -1], [-3, 0, 0]]
        assert r.writes == 4 and r.row_max.tolist() == [2, 3]
        np.testing.assert_allclose(c, [[0.1, 0.05, -0.05], [-9.25, 0.125, 0.0]], atol=1e-15)
        np.testing.assert_allclose(wr, [[0.5, 0.25, -0.25], [-0.75, 0, 0]], atol=1e-15)
        # 4-bit χ with LSB ε/2: codes −7..7, top = 3.5ε; round half to even on ties
        c, acc, wr = np.zeros((1, 4)), np.zeros((1, 4)), np.zeros((1, 4))
        g = np.array([[100.0, -100.0, 0.1875, 0.0625]])     # 0.1875 = 1.5 LSB, 0.0625 = 0.5
        r = da.chi_update(c, g, 1.0, acc, wr, eps, chi_bits=4, chi_frac_bits=1,
                          max_pulses=31, backend=backend)
        assert acc.tolist() == [[0.875, -0.875, 0.25, 0.0]]   # saturated, 2 LSB, 0 LSB (even)
        assert r.counts.tolist() == [[3, -3, 1, 0]]
        assert c.tolist() == [[0.125, -0.125, 0.0, 0.0]]


def test_every_cpu_copy_is_listed_and_selectable():
    ext = da.kernels()
    assert ext.isa() in ext.ISAS and _isas()[0] == "baseline"
    assert ext.isa("baseline") == "baseline"
    assert ext.isa("best") == _isas()[-1]


def test_validation_errors():
    z = np.zeros((3, 4))
    kw = dict(chi_bits=8, chi_frac_bits=4, max_pulses=5)
    with pytest.raises(ValueError, match="grad has shape"):
        da.chi_update(z.copy(), np.zeros((4, 3)), 1.0, z.copy(), z.copy(), 0.1, **kw)
    with pytest.raises(ValueError, match="NaN or inf"):
        da.chi_update(z.copy(), np.full((3, 4), np.nan), 1.0, z.copy(), z.copy(), 0.1, **kw)
    with pytest.raises(ValueError, match="accumulated has shape"):
        da.chi_update(z.copy(), z, 1.0, np.zeros((3, 3)), z.copy(), 0.1, **kw)
    with pytest.raises(ValueError, match="written must be"):
        da.chi_update(z.copy(), z, 1.0, z.copy(), z.astype(np.float32), 0.1, **kw)
    with pytest.raises(ValueError, match="chi must be"):
        da.chi_update(np.zeros((4, 3)).T, z, 1.0, z.copy(), z.copy(), 0.1, **kw)
    with pytest.raises(ValueError, match="eps"):
        da.chi_update(z.copy(), z, 1.0, z.copy(), z.copy(), 0.0, **kw)
    with pytest.raises(ValueError, match="max_pulses"):
        da.chi_update(z.copy(), z, 1.0, z.copy(), z.copy(), 0.1, chi_bits=8,
                      chi_frac_bits=4, max_pulses=0)
    with pytest.raises(ValueError, match="backend"):
        da.chi_update(z.copy(), z, 1.0, z.copy(), z.copy(), 0.1, backend="fortran", **kw)


def test_missing_extension_raises_backend_error(monkeypatch):
    monkeypatch.setattr(da, "_ext", None)
    z = np.zeros((2, 2))
    with pytest.raises(BackendError, match="rebuild with `pip install .`"):
        da.chi_update(z.copy(), z, 1.0, z.copy(), z.copy(), 0.1, chi_bits=8,
                      chi_frac_bits=4, max_pulses=5, backend="cython")
    # the oracle needs no compiled code
    r = da.chi_update(z.copy(), z, 1.0, z.copy(), z.copy(), 0.1, chi_bits=8,
                      chi_frac_bits=4, max_pulses=5, backend="numpy")
    assert r.writes == 0


# -- the algorithm: same numbers and the same hardware ops as the pre-kernel code ----------
class _Calls:
    """Records every hw call (method, args, kwargs) exactly."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *a, **k: self.calls.append((name, a, tuple(sorted(k.items()))))


def _legacy_update(self, network, batch_size):
    """MixedPrecision.update as it was before the fused kernel (verbatim arithmetic)."""
    p = self.params
    for layer in network.analog_layers():
        name = layer.name
        arr, x, d = self.arrays[name], layer.last_input, layer.last_delta
        m, n = arr.shape
        delta = -(self.lr / p.weight_scale) * (d.T @ x)
        eps = arr.granularity
        chi = self.chi[name] + delta
        if p.chi_bits:
            lsb = eps / (1 << p.chi_frac_bits)
            top = (2.0 ** (p.chi_bits - 1) - 1) * lsb
            chi = np.clip(np.round(chi / lsb), -top / lsb, top / lsb) * lsb
        self.accumulated[name] += chi - self.chi[name]
        self.hw.digital("mac", len(x) * m * n, layer=name, phase="update")
        counts = np.clip(np.trunc(chi / eps), -p.max_pulses, p.max_pulses).astype(np.int64)
        self.hw.accumulate(name, m * n, "H", "update", compares=m * n,
                           writes=int(np.count_nonzero(counts)))
        chi -= counts * eps
        self.written[name] += counts * eps
        self.chi[name] = chi
        if counts.any():
            if p.write == "parallel":
                arr.apply_pulses(counts, phase="update")
            else:
                self._serial(arr, counts, np.abs(counts).max(axis=1))
        arr.end_of_batch()


def _run(params, legacy, steps=6):
    acc = {"device": {"model": "soft_bounds"}}
    ctx = Context(accelerator=build_section(AcceleratorConfig, acc, ""),
                  device=build_section(DeviceConfig, acc["device"], "device"), seed=0,
                  backend="cython", hw=_Calls())
    cls = ALGORITHMS["mixed-precision"]
    algo = cls(build_section(cls.Params, params, "params"),
               build_section(TrainingConfig, {"algorithm": cls.NAME, "lr": 2.0}, "training"),
               ctx)
    layers = []
    for name, (m, n) in (("fc1", (12, 20)), ("fc2", (5, 12))):
        algo.make_backend(name, m, n, np.zeros((m, n)))
        layers.append(type("L", (), {"name": name})())
    net = type("Net", (), {"analog_layers": lambda self: layers})()
    rng = np.random.default_rng(5)
    for _ in range(steps):
        for layer, (m, n) in zip(layers, ((12, 20), (5, 12))):
            layer.last_input = rng.uniform(-1, 1, (4, n))
            layer.last_delta = rng.normal(0, 0.05, (4, m))
        (_legacy_update if legacy else cls.update)(algo, net, 4)
    return algo, ctx.hw.calls


@pytest.mark.parametrize("params", [{"write": "serial"}, {"write": "parallel"},
                                    {"chi_bits": 0, "max_pulses": 2},
                                    {"chi_bits": 6, "chi_frac_bits": 3, "write": "parallel"}])
def test_algorithm_matches_pre_kernel_code(params):
    new, new_calls = _run(params, legacy=False)
    old, old_calls = _run(params, legacy=True)
    assert new_calls == old_calls
    kinds = {c[0] for c in new_calls}
    assert {"digital", "accumulate"} <= kinds and kinds & {"serial_write", "update"}
    assert sum(a.pulses for a in new.arrays.values()) > 0
    for k in ("chi", "accumulated", "written"):
        for name in ("fc1", "fc2"):
            assert np.array_equal(_bits(getattr(new, k)[name]), _bits(getattr(old, k)[name]))
    for name in ("fc1", "fc2"):
        assert np.array_equal(new.arrays[name].weights(), old.arrays[name].weights())
