"""Networks built from the experiment's layer list: shapes, gradients, training, spec errors."""
from __future__ import annotations

import numpy as np
import pytest

from hwsim.config.yamlio import load_yaml_text
from hwsim.errors import ConfigError
from hwsim.training.datasets import load_dataset
from hwsim.training.layers import FloatWeights
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.network import LayerShape, build_network

LENET5 = [
    {"conv": {"out": 6, "kernel": 5, "padding": 2}, "activation": "tanh"},
    {"pool": {"kind": "max", "size": 2}},
    {"conv": {"out": 16, "kernel": 5}, "activation": "tanh"},
    {"pool": {"kind": "max", "size": 2}},
    {"flatten": True},
    {"linear": 120, "activation": "tanh"},
    {"linear": 84, "activation": "tanh"},
    {"linear": 10},
]
MLP = [{"linear": 32, "activation": "sigmoid"}, {"linear": 10}]


class CountingWeights(FloatWeights):
    """A backend that counts its MVMs (what a crossbar tile would be asked to do)."""

    def __init__(self, w):
        super().__init__(w)
        self.n_forward = self.n_backward = 0

    def forward(self, x):
        self.n_forward += len(x)
        return super().forward(x)

    def backward(self, d):
        self.n_backward += len(d)
        return super().backward(d)


class NoStepWeights:
    """A valid WeightBackend without sgd_step (as an analog tile would be)."""

    def __init__(self, w):
        self._w = np.array(w)
        self.out_features, self.in_features = self._w.shape

    def forward(self, x):
        return x @ self._w.T

    def backward(self, d):
        return d @ self._w

    def weights(self):
        return self._w.copy()


def test_lenet5_on_mnist_shapes():
    net = build_network(LENET5, (1, 28, 28), None, np.random.default_rng(0), n_outputs=10)
    assert net.layer_shapes() == [
        LayerShape("conv1", "conv", 6, 25, 784),
        LayerShape("conv2", "conv", 16, 150, 100),
        LayerShape("fc1", "linear", 120, 400, 1),
        LayerShape("fc2", "linear", 84, 120, 1),
        LayerShape("fc3", "linear", 10, 84, 1),
    ]
    assert [l.name for l in net.analog_layers()] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    x = np.random.default_rng(1).uniform(size=(3, 1, 28, 28))
    assert net.forward(x).shape == (3, 10)
    assert net.predict(x).shape == (3,)
    assert net.output_shape == (10,)


def test_backend_factory_gets_names_shapes_and_xavier_init():
    seen = {}

    def factory(name, out_f, in_f, init_w):
        seen[name] = (out_f, in_f, init_w)
        return FloatWeights(init_w)

    net = build_network([{"linear": 200, "activation": "relu"}, {"linear": 100}], (300,), factory,
                        np.random.default_rng(0))
    assert list(seen) == ["fc1", "fc2"]
    for name, (o, i, w) in seen.items():
        a = np.sqrt(6.0 / (o + i))
        assert w.shape == (o, i) and np.abs(w).max() <= a
        assert w.std() == pytest.approx(a / np.sqrt(3), rel=0.02)     # U[−a, a] has σ = a/√3
        np.testing.assert_array_equal(net.analog_layer(name).backend.weights(), w)
    lecun = build_network([{"linear": 50, "init": "lecun"}], (400,), None, np.random.default_rng(0))
    assert np.abs(lecun.analog_layer("fc1").backend.weights()).max() <= np.sqrt(3 / 400)


def test_same_seed_same_network():
    w = [build_network(LENET5, (1, 28, 28), None, np.random.default_rng(7)).analog_layer("conv2")
         .backend.weights() for _ in range(2)]
    np.testing.assert_array_equal(w[0], w[1])


def test_backward_skips_the_first_layers_input_gradient():
    backends = {}

    def factory(name, o, i, w):
        backends[name] = CountingWeights(w)
        return backends[name]

    net = build_network(MLP, (64,), factory, np.random.default_rng(0))
    x = np.random.default_rng(1).uniform(size=(5, 64))
    _, g = softmax_cross_entropy(net.forward(x), np.arange(5))
    assert net.backward(g) is None
    assert (backends["fc1"].n_forward, backends["fc1"].n_backward) == (5, 0)
    assert (backends["fc2"].n_forward, backends["fc2"].n_backward) == (5, 5)
    fc1 = net.analog_layer("fc1")
    assert fc1.last_input.shape == (5, 64) and fc1.last_delta.shape == (5, 32)


def test_whole_network_gradient_against_finite_differences():
    spec = [{"conv": {"out": 2, "kernel": 3, "stride": 2, "padding": 1}, "activation": "relu"},
            {"pool": {"kind": "avg", "size": 2}}, {"conv": {"out": 3, "kernel": 2}, "activation": "tanh"},
            {"flatten": True}, {"linear": 4, "activation": "sigmoid"}, {"linear": 3}]
    rng = np.random.default_rng(2)
    net = build_network(spec, (2, 9, 9), None, rng, n_outputs=3)
    x, t = rng.normal(size=(2, 2, 9, 9)), np.array([0, 2])
    loss = lambda: softmax_cross_entropy(net.forward(x, train=False), t)[0]
    _, g = softmax_cross_entropy(net.forward(x), t)
    gx = net.backward(g, need_input_grad=True)
    for target, analytic in [(x, gx)] + [
            (l.backend._w, l.last_delta.T @ l.last_input) for l in net.analog_layers()]:
        num = np.zeros_like(target)
        for idx in np.ndindex(target.shape):
            old = target[idx]
            target[idx] = old + 1e-6
            fp = loss()
            target[idx] = old - 1e-6
            num[idx] = (fp - loss()) / 2e-6
            target[idx] = old
        np.testing.assert_allclose(analytic, num, atol=1e-7)


def test_sigmoid_mlp_learns_digits_with_float_sgd():
    """64-32-10 sigmoid MLP, plain SGD (lr 1.0, batch 10, 20 epochs): ≥ 95 % test accuracy."""
    ds = load_dataset("digits")
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        net = build_network(MLP, ds.input_shape, None, rng, n_outputs=ds.n_classes)
        loss0, acc0 = net.evaluate(ds.test_x, ds.test_y)
        for _ in range(20):
            for x, y in ds.batches(10, rng):
                _, g = softmax_cross_entropy(net.forward(x), y)
                net.backward(g)
                net.sgd_step(1.0)
        loss, acc = net.evaluate(ds.test_x, ds.test_y)
        assert acc0 < 0.3 and loss < loss0 / 10
        assert acc >= 0.95, f"seed {seed}: test accuracy {acc:.3f}"


def test_sgd_step_needs_a_float_backend():
    net = build_network(MLP, (64,), lambda n, o, i, w: NoStepWeights(w), np.random.default_rng(0))
    _, g = softmax_cross_entropy(net.forward(np.ones((2, 64))), np.array([1, 2]))
    net.backward(g)
    with pytest.raises(TypeError, match="fc1: backend NoStepWeights has no sgd_step"):
        net.sgd_step(0.1)


def test_factory_returning_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match="fc1: backend is 2×2, layer needs 32×64"):
        build_network(MLP, (64,), lambda n, o, i, w: FloatWeights(np.ones((2, 2))),
                      np.random.default_rng(0))


BAD_SPECS = [  # (spec, input_shape, key path, message fragment)
    ("notalist", (64,), "workload.network", "non-empty list"),
    ([], (64,), "workload.network", "non-empty list"),
    ([5], (64,), "workload.network[0]", "mapping"),
    ([{"linear": 0}], (64,), "workload.network[0].linear", "integer ≥ 1"),
    ([{"linear": True}], (64,), "workload.network[0].linear", "integer ≥ 1"),
    ([{"linear": 32}, {"lineer": 10}], (64,), "workload.network[1].lineer", "unknown key"),
    ([{"linear": 32, "activation": "softmax"}], (64,), "workload.network[0].activation", "sigmoid"),
    ([{"linear": 3, "conv": {"out": 1, "kernel": 1}}], (64,), "workload.network[0]", "one layer per item"),
    ([{"bias": False}], (64,), "workload.network[0]", "expected one of"),
    ([{"activation": "none"}], (64,), "workload.network[0].activation", "needs a function"),
    ([{"conv": {"out": 6, "kernel": 5}}], (784,), "workload.network[0].conv", "flatten: false"),
    ([{"conv": {"out": 6, "kernel": 9}}], (1, 8, 8), "workload.network[0].conv.kernel", "does not fit"),
    ([{"conv": {"out": 6}}], (1, 8, 8), "workload.network[0].conv.kernel", "missing"),
    ([{"conv": {"out": 6, "kernel": 3, "dilation": 2}}], (1, 8, 8), "workload.network[0].conv.dilation",
     "unknown key"),
    ([{"conv": 6}], (1, 8, 8), "workload.network[0].conv", "mapping"),
    ([{"conv": {"out": 2, "kernel": 3}}, {"linear": 10}], (1, 8, 8), "workload.network[1].linear",
     "flatten: true"),
    ([{"conv": {"out": 2, "kernel": 3}}, {"pool": {"kind": "median", "size": 2}}], (1, 8, 8),
     "workload.network[1].pool.kind", "max, avg"),
    ([{"pool": {"size": 2}, "bias": False}], (1, 8, 8), "workload.network[0].bias", "only linear and conv"),
    ([{"flatten": False}], (1, 8, 8), "workload.network[0].flatten", "expected true"),
    ([{"linear": 32, "init": "he"}], (64,), "workload.network[0].init", "xavier"),
    ([{"linear": 32, "name": "a"}, {"linear": 10, "name": "a"}], (64,), "workload.network[1].name",
     "duplicate"),
    ([{"linear": 32}, {"linear": 9}], (64,), "workload.network[1]", "10 classes"),
]


@pytest.mark.parametrize("spec,shape,key,msg", BAD_SPECS)
def test_bad_spec_raises_config_error_with_key_path(spec, shape, key, msg):
    with pytest.raises(ConfigError) as info:
        build_network(spec, shape, None, np.random.default_rng(0), n_outputs=10)
    assert info.value.key == key
    assert msg in info.value.message


def test_spec_errors_from_yaml_carry_file_and_line():
    text = ("workload:\n"
            "  network:\n"
            "    - {linear: 32, activation: sigmoid}\n"
            "    - linear: 10\n"
            "      activation: softplus\n")
    spec = load_yaml_text(text, name="exp.yaml")["workload"]["network"]
    with pytest.raises(ConfigError) as info:
        build_network(spec, (64,), None, np.random.default_rng(0))
    assert info.value.one_line().startswith("exp.yaml:5: workload.network[1].activation: expected one of")
    where = lambda path: ("other.yaml", 42)
    with pytest.raises(ConfigError) as info:
        build_network([{"linear": -1}], (64,), None, np.random.default_rng(0), where=where)
    assert info.value.one_line().startswith("other.yaml:42: workload.network[0].linear:")


def test_build_needs_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        build_network(MLP, (64,), None, None)
