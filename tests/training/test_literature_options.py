"""Settings the literature uses (issue 16): PyTorch init, analog biases, reference
offsets on any array, reads against zero, aihwkit's bound-management limits and the
stochastic mixed-precision writes.  Every expected number is a closed form or a
hand count, stated where it is used."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.accelerator import AcceleratorConfig
from hwsim.config.experiment import TrainingConfig
from hwsim.config.params import build_section, replace
from hwsim.config.periphery import MVMConfig
from hwsim.devices import DeviceConfig
from hwsim.errors import ConfigError
from hwsim.physics.periphery import mvm
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.algorithms.mixed_precision import quantize_bins
from hwsim.training.network import build_network, init_weights
from hwsim.training.network_spec import parse_layers
from hwsim.training.runner import Context

SOFT = {"model": "soft_bounds"}
TILE = {"device": SOFT, "tile": {"periphery": {"chopper": {"inputs": True}, "accumulator": {}}}}


def _algo(name, params, lr=0.1, seed=0):
    acc = build_section(AcceleratorConfig, TILE, "")
    dev = build_section(DeviceConfig, SOFT, "device")
    ctx = Context(accelerator=acc, device=dev, seed=seed, backend="cython")
    cls = ALGORITHMS[name]
    training = build_section(TrainingConfig, {"algorithm": name, "lr": lr}, "training")
    return cls(build_section(cls.Params, params, "params"), training, ctx)


# ---- init: torch, bias_init: torch ------------------------------------------------------
def test_torch_init_bounds_are_one_over_sqrt_fan_in():
    """PyTorch nn.Linear: kaiming_uniform_(a=√5) ⇒ bound gain·√(3/fan_in) with gain
    √(2/(1+a²)) = √(1/3), i.e. 1/√fan_in; 400 inputs: 0.05."""
    w = init_weights(np.random.default_rng(0), 50, 400, 400, 50, "torch")
    assert np.abs(w).max() <= 0.05
    assert np.abs(w).max() > 0.0499          # 20 000 uniform draws reach the bound
    assert abs(np.mean(np.abs(w)) - 0.025) < 1e-3   # E|U(±a)| = a/2


def test_torch_bias_init_draws_the_bias_after_the_weights():
    spec = [{"linear": 20, "init": "torch", "bias_init": "torch"}]
    net = build_network(spec, (100,), rng=np.random.default_rng(3))
    layer = net.analog_layers()[0]
    rng = np.random.default_rng(3)          # nn.Linear's order: weight, then bias
    w = init_weights(rng, 20, 100, 100, 20, "torch")
    np.testing.assert_array_equal(layer.backend.weights(), w)
    np.testing.assert_array_equal(layer.bias, rng.uniform(-0.1, 0.1, 20))   # 1/√100
    plain = build_network([{"linear": 20}], (100,), rng=np.random.default_rng(3))
    assert not plain.analog_layers()[0].bias.any()       # default: zero bias


def test_bias_init_without_a_bias_is_an_error():
    with pytest.raises(ConfigError, match="bias_init"):
        parse_layers([{"linear": 4, "bias": False, "bias_init": "torch"}])


# ---- analog bias --------------------------------------------------------------------------
def test_analog_bias_is_one_more_column_driven_by_one():
    """[W b][x; 1] = W x + b: the crossbar has N + 1 columns (what the mapping places)."""
    spec = [{"linear": 3, "analog_bias": True, "bias_init": "torch"}]
    net = build_network(spec, (5,), rng=np.random.default_rng(0))
    layer = net.analog_layers()[0]
    assert layer.bias is None and layer.in_features == 6 and layer.data_features == 5
    assert net.layer_shapes()[0].in_features == 6
    wb = layer.backend.weights()
    assert np.abs(wb[:, 5]).max() <= 1 / np.sqrt(5) and wb[:, 5].any()
    x = np.random.default_rng(1).uniform(-1, 1, (4, 5))
    y = net.forward(x)
    np.testing.assert_allclose(y, x @ wb[:, :5].T + wb[:, 5], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(layer.last_input[:, 5], np.ones(4))   # what updates see
    g = net.backward(np.ones((4, 3)), need_input_grad=True)
    assert g.shape == (4, 5)                 # the constant line has no input gradient
    with pytest.raises(ConfigError, match="analog_bias"):
        parse_layers([{"conv": {"out": 2, "kernel": 3}, "analog_bias": True}])


def test_analog_bias_column_is_one_more_column_in_the_mapping():
    """256 inputs fill one 256-wide tile; the bias column is the 257th: ⌈257/256⌉ = 2."""
    from hwsim.elaborate.mapping import map_layers
    for analog, tiles in ((False, 1), (True, 2)):
        net = build_network([{"linear": 8, "analog_bias": analog}], (256,),
                            rng=np.random.default_rng(0))
        shapes = [(s.name, s.out_features, s.in_features) for s in net.layer_shapes()]
        mapping = map_layers(shapes, ("W",), 256, 256, 4)
        assert len(mapping.layers["fc1"].arrays["W"]) == tiles == mapping.tiles_used


def test_analog_bias_column_is_trained_by_the_pulsed_update():
    algo = _algo("sgd", {})
    net = build_network([{"linear": 4, "analog_bias": True}], (6,), algo.make_backend,
                        np.random.default_rng(0))
    layer = net.analog_layers()[0]
    arr = algo.arrays[layer.name]
    assert arr.shape == (4, 7)
    before = arr.array.w.copy()
    x = np.zeros((10, 6))                   # only the bias line is driven
    net.forward(x)
    net.backward(np.ones((10, 4)))
    algo.update(net, 10)
    assert (arr.array.w[:, 6] < before[:, 6]).all()     # d > 0: the bias column moves down
    np.testing.assert_array_equal(arr.array.w[:, :6], before[:, :6])   # x = 0: no pulses


# ---- bound management: aihwkit's limits ---------------------------------------------------
def test_bm_limits_follow_aihwkit_counts():
    """aihwkit stops after a read with reduction r once r > max_bm_factor or
    r > max_bm_res/inp_res; inp_res = 1/(2^7 − 2) = 1/126: 0.25·126 = 31.5 → the read at
    r = 32 is the last: 5 repeats; factor 1000 → r = 1024 last: 10; factor 4 → 3."""
    base = MVMConfig()
    assert base.bm_repeat_limit() == 10                     # today's halvings only
    assert replace(base, max_bm_factor=1000).bm_repeat_limit() == 10
    assert replace(base, max_bm_factor=1000, max_bm_res=0.25).bm_repeat_limit() == 5
    assert replace(base, max_bm_factor=4).bm_repeat_limit() == 3
    assert replace(base, max_bm_res=0.25, inp_res_bits=None).bm_repeat_limit() == 10


def test_bm_factor_limit_stops_a_saturating_sample_at_the_limit():
    n = 64
    w = np.full((2, n), 0.5)
    x = np.ones((1, n))                      # u = 32/2^k (unquantized DAC)
    quiet = MVMConfig(out_noise=0.0, out_bound=0.01, inp_res_bits=None)   # saturates for k ≤ 11
    _, s = mvm(w, x, quiet, None)
    assert s.bm_repeats == 10
    _, s = mvm(w, x, replace(quiet, max_bm_factor=4), None)
    assert s.bm_repeats == 3                 # reductions 2, 4, 8 (hand count above)


# ---- reference offsets and reads against zero --------------------------------------------
def test_ref_target_zero_programs_r_to_zero_and_sp_to_the_symmetry_point():
    shape = (6, 5)
    zero = _algo("ttv2", {"ref_target": "zero"})
    zero.make_backend("fc", *shape, np.zeros(shape))
    e = zero.engines["fc"]
    np.testing.assert_allclose(e.R.array.visible_weights(), 0.0, atol=1e-15)
    sp = _algo("ttv2", {})
    sp.make_backend("fc", *shape, np.zeros(shape))
    e = sp.engines["fc"]
    np.testing.assert_allclose(e.R.array.visible_weights(), e.A.array.symmetry_point(),
                               atol=1e-12)


def test_ref_offsets_on_every_role_are_static_and_uncompensated():
    shape = (40, 50)
    sgd = _algo("sgd", {"ref_offsets": {"W": 0.1}})
    sgd.make_backend("fc", *shape, np.zeros(shape))
    ref = sgd.arrays["fc"].array.reference
    assert 0.09 < ref.std() < 0.11 and abs(ref.mean()) < 0.01   # σ = 0.1 over 2000 devices
    tt = _algo("ttv2", {"ref_offsets": {"A": 0.2, "C": 0.1, "R": 0.05}})
    tt.make_backend("fc", *shape, np.zeros(shape))
    e = tt.engines["fc"]
    # R is programmed to A's symmetry point without the offsets, so the differential read
    # at rest is A − R = (w_A − sp) − off_A + off_R: both offsets reach the read
    read = e.A.array.visible_weights() - e.R.array.visible_weights()
    expect = e.A.array.w - e.A.array.symmetry_point() - e.A.static_offset + e.R.static_offset
    np.testing.assert_allclose(read, expect, atol=1e-12)
    assert 0.18 < e.A.static_offset.std() < 0.22 and 0.09 < e.C.static_offset.std() < 0.11
    np.testing.assert_allclose(e.C.array.visible_weights(), -e.C.static_offset, atol=1e-15)
    plain = _algo("ttv2", {})
    plain.make_backend("fc", *shape, np.zeros(shape))
    assert not plain.engines["fc"].C.array.reference.any()
    # the other streams do not move: the offsets have their own
    np.testing.assert_array_equal(plain.engines["fc"].A.array.w, e.A.array.w)


def test_ref_offsets_name_only_the_algorithms_roles():
    algo = _algo("agad", {"ref_offsets": {"R": 0.1}})
    with pytest.raises(ConfigError, match="no array role 'R'"):
        algo.check_roles()
    with pytest.raises(ConfigError, match="ref_offsets.W"):
        _algo("sgd", {"ref_offsets": {"W": -1}})


# ---- mixed precision: stochastic rounding of x and d -------------------------------------
def test_quantize_bins_by_hand():
    """4 bins: half = 2, width = max|v|/2 = 0.5; v/w = 0.6, −2, 1.1, 0 → 1, −2, 1, 0."""
    v = np.array([[0.3, -1.0, 0.55, 0.0]])
    np.testing.assert_array_equal(quantize_bins(v, 4, None), [[0.5, -1.0, 0.5, 0.0]])
    np.testing.assert_array_equal(quantize_bins(np.zeros((1, 3)), 4, None), 0.0)
    many = np.repeat(v, 20000, axis=0)       # stochastic rounding is unbiased: E[q] = v
    q = quantize_bins(many, 4, np.random.default_rng(0))
    assert set(np.unique(q[:, 0])) == {0.0, 0.5}
    np.testing.assert_allclose(q.mean(axis=0), v[0], atol=0.01)


def test_mixed_precision_bins_of_one_are_an_error():
    with pytest.raises(ConfigError, match="n_x_bins"):
        _algo("mixed-precision", {"n_x_bins": 1})


def test_transfer_steps_write_k_pulses_per_count():
    """χ = −η·d xᵀ = −5ε per element (η = 1, d = 1, x = 5ε); with ε_t = 2ε:
    trunc(χ/ε_t) = −2 counts of 2 pulses each, χ ← −5ε + 2·2ε = −ε."""
    shape = (2, 3)
    algo = _algo("mixed-precision", {"transfer_steps": 2, "max_pulses": 100}, lr=1.0)
    algo.make_backend("fc", *shape, np.zeros(shape))
    arr = algo.arrays["fc"]
    eps = arr.granularity
    x = np.full((1, 3), 5 * eps)             # χ = −1·(1·5ε) per element: 2 counts of 2ε
    d = np.ones((1, 2))
    res = algo._chi_update("fc", arr, x, d)
    np.testing.assert_array_equal(res.counts, -4)        # 2 counts × 2 pulses
    np.testing.assert_allclose(algo.chi["fc"], -eps, rtol=1e-12)   # −5ε + 2·2ε
