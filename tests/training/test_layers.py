"""Layers and losses on the floating-point path: numeric gradient checks and oracles."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.training.layers import (AvgPool2d, Conv2d, Flatten, FloatWeights, Linear, MaxPool2d,
                                   ReLU, Sigmoid, Tanh, WeightBackend, col2im, conv_output_size,
                                   im2col)
from hwsim.training.layers_dense import GELU, erf
from hwsim.training.losses import accuracy, mean_squared_error, softmax_cross_entropy

EPS = 1e-6


def numeric_grad(f, x: np.ndarray) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of x (in place)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + EPS
        fp = f()
        x[i] = old - EPS
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * EPS)
    return g


def assert_close(analytic, numeric, tol=1e-6):
    scale = max(1.0, float(np.abs(numeric).max()))
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=tol * scale)


def check_layer(layer, x, rng, w_backend=None):
    """Check ∂L/∂x, ∂L/∂W = dᵀx (from last_input/last_delta) and ∂L/∂b for L = Σ R ⊙ y."""
    y = layer.forward(x)
    r = rng.normal(size=y.shape)
    loss = lambda: float(np.sum(layer.forward(x, train=False) * r))
    layer.forward(x)
    gx = layer.backward(r)
    assert gx.shape == x.shape
    assert_close(gx, numeric_grad(loss, x))
    if w_backend is not None:
        w = w_backend._w               # FloatWeights' matrix, perturbed in place
        gw = layer.last_delta.T @ layer.last_input
        assert_close(gw, numeric_grad(loss, w))
        if layer.bias is not None:
            assert_close(layer.grad_bias, numeric_grad(loss, layer.bias))


# -- weight backend ---------------------------------------------------------------------
def test_float_weights_is_a_backend_and_steps_exactly():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4))
    fw = FloatWeights(w)
    assert isinstance(fw, WeightBackend)
    x, d = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(fw.forward(x), x @ w.T)
    np.testing.assert_allclose(fw.backward(d), d @ w)
    fw.sgd_step(x, d, 0.1)
    np.testing.assert_allclose(fw.weights(), w - 0.1 * d.T @ x)
    fw.weights()[0, 0] = 99.0                      # a copy: the backend is not aliased
    assert fw.weights()[0, 0] != 99.0
    with pytest.raises(ValueError, match="do not fit"):
        fw.sgd_step(x[:, :3], d, 0.1)
    with pytest.raises(ValueError, match="NaN"):
        FloatWeights(np.array([[np.nan]]))


def test_linear_rejects_non_backend_and_bad_shapes():
    with pytest.raises(TypeError, match="not a WeightBackend"):
        Linear(np.zeros((3, 4)))
    lin = Linear(FloatWeights(np.ones((3, 4))), name="fc1")
    with pytest.raises(ValueError, match=r"fc1: expected input of shape \(B, 4\)"):
        lin.forward(np.ones((2, 5)))
    with pytest.raises(RuntimeError, match="without a forward"):
        Linear(FloatWeights(np.ones((3, 4)))).backward(np.ones((2, 3)))


# -- gradient checks ----------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(bias):
    rng = np.random.default_rng(1)
    fw = FloatWeights(rng.normal(size=(4, 6)))
    lin = Linear(fw, bias=bias, name="fc1")
    if bias:
        lin.bias[:] = rng.normal(size=4)
    x = rng.normal(size=(3, 6))
    check_layer(lin, x, rng, fw)
    assert lin.last_input.shape == (3, 6) and lin.last_delta.shape == (3, 4)


def test_linear_skips_input_gradient_but_keeps_delta():
    rng = np.random.default_rng(2)
    lin = Linear(FloatWeights(rng.normal(size=(2, 3))))
    lin.forward(rng.normal(size=(4, 3)))
    d = rng.normal(size=(4, 2))
    assert lin.backward(d, need_grad_in=False) is None
    np.testing.assert_array_equal(lin.last_delta, d)
    np.testing.assert_allclose(lin.grad_bias, d.sum(0))
    lin.apply_digital_updates(0.5)
    np.testing.assert_allclose(lin.bias, -0.5 * d.sum(0))


CONV_CASES = [  # (C_in, H, W, C_out, kernel, stride, padding)
    (1, 5, 5, 2, 3, 1, 0),
    (2, 6, 5, 3, 3, 2, 1),
    (3, 7, 6, 2, 2, 3, 2),
    (1, 4, 4, 2, 5, 1, 2),        # LeNet-style 'same' padding
]


def conv_oracle(x, w, b, stride, pad):
    """Direct definition y[b,o,i,j] = Σ_{c,p,q} W[o,c,p,q] x_pad[b,c,i·s+p,j·s+q] + b[o]."""
    B, C, H, W_ = x.shape
    O, _, K, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = conv_output_size(H, K, stride, pad), conv_output_size(W_, K, stride, pad)
    y = np.zeros((B, O, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + K, j * stride:j * stride + K]
            y[:, :, i, j] = np.einsum("bcpq,ocpq->bo", patch, w) + b
    return y


@pytest.mark.parametrize("c,h,w,o,k,s,p", CONV_CASES)
def test_conv_forward_matches_direct_definition(c, h, w, o, k, s, p):
    rng = np.random.default_rng(3)
    wk = rng.normal(size=(o, c, k, k))
    conv = Conv2d(FloatWeights(wk.reshape(o, -1)), (c, h, w), k, stride=s, padding=p)
    conv.bias[:] = rng.normal(size=o)
    x = rng.normal(size=(2, c, h, w))
    np.testing.assert_allclose(conv.forward(x), conv_oracle(x, wk, conv.bias, s, p), atol=1e-12)
    assert conv.vectors_per_sample == conv.out_h * conv.out_w


@pytest.mark.parametrize("c,h,w,o,k,s,p", CONV_CASES)
def test_conv_gradients(c, h, w, o, k, s, p):
    rng = np.random.default_rng(4)
    fw = FloatWeights(rng.normal(size=(o, c * k * k)))
    conv = Conv2d(fw, (c, h, w), k, stride=s, padding=p, name="conv1")
    conv.bias[:] = rng.normal(size=o)
    x = rng.normal(size=(2, c, h, w))
    check_layer(conv, x, rng, fw)
    n_vec = 2 * conv.vectors_per_sample
    assert conv.last_input.shape == (n_vec, c * k * k)
    assert conv.last_delta.shape == (n_vec, o)


def test_conv_without_bias_and_bad_backend_shape():
    rng = np.random.default_rng(5)
    fw = FloatWeights(rng.normal(size=(2, 9)))
    conv = Conv2d(fw, (1, 4, 4), 3, bias=False)
    assert conv.bias is None
    check_layer(conv, rng.normal(size=(3, 1, 4, 4)), rng, fw)
    with pytest.raises(ValueError, match="backend is 2×9, layer needs 2×18"):
        Conv2d(fw, (2, 4, 4), 3)
    with pytest.raises(ValueError, match="does not fit"):
        Conv2d(FloatWeights(np.ones((1, 25))), (1, 3, 3), 5)


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_col2im_is_the_adjoint_of_im2col(b, c, h, w, k, s, p, seed):
    """⟨im2col(x), G⟩ = ⟨x, col2im(G)⟩ for every shape where the kernel fits."""
    if h + 2 * p < k or w + 2 * p < k:
        return
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, c, h, w))
    cols = im2col(x, k, k, s, p)
    ho, wo = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
    assert cols.shape == (b * ho * wo, c * k * k)
    g = rng.normal(size=cols.shape)
    lhs = np.sum(cols * g)
    rhs = np.sum(x * col2im(g, x.shape, k, k, s, p))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def pool_oracle(x, size, stride, reduce):
    B, C, H, W = x.shape
    ho, wo = (H - size) // stride + 1, (W - size) // stride + 1
    y = np.zeros((B, C, ho, wo))
    for i in range(ho):
        for j in range(wo):
            y[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + size, j * stride:j * stride + size],
                                   axis=(2, 3))
    return y


@pytest.mark.parametrize("cls,reduce", [(MaxPool2d, np.max), (AvgPool2d, np.mean)])
@pytest.mark.parametrize("size,stride,hw", [(2, None, (4, 6)), (2, None, (5, 5)), (3, 2, (7, 6))])
def test_pooling_forward_and_gradients(cls, reduce, size, stride, hw):
    rng = np.random.default_rng(6)
    pool = cls(size, stride)
    x = rng.normal(size=(2, 3) + hw)
    np.testing.assert_allclose(pool.forward(x), pool_oracle(x, size, stride or size, reduce))
    assert pool.output_shape(x.shape[1:]) == pool.forward(x).shape[1:]
    check_layer(pool, x, rng)


def test_maxpool_routes_error_to_the_maximum_only():
    x = np.array([[[[1.0, 5.0], [2.0, 3.0]]]])
    pool = MaxPool2d(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.array([[[[7.0]]]])), [[[[0, 7.0], [0, 0]]]])


@pytest.mark.parametrize("cls", [Sigmoid, Tanh, ReLU, GELU, Flatten])
def test_elementwise_and_flatten_gradients(cls):
    rng = np.random.default_rng(7)
    check_layer(cls(), rng.normal(size=(3, 2, 3, 4)), rng)


def test_activation_values_and_stability():
    z = np.array([[-1000.0, -1.0, 0.0, 2.0, 1000.0]])
    with np.errstate(all="raise"):
        s = Sigmoid().forward(z)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-np.clip(z, -700, 700))), atol=1e-15)
    np.testing.assert_allclose(Tanh().forward(z), np.tanh(z))
    np.testing.assert_array_equal(ReLU().forward(z), [[0, 0, 0, 2.0, 1000.0]])


def test_gelu_against_math_erf():
    import math
    z = np.linspace(-6, 6, 241)
    # reference: the C library's erf; A&S 7.1.26 promises |error| ≤ 1.5e-7
    np.testing.assert_allclose(erf(z), [math.erf(v) for v in z], rtol=0, atol=1.5e-7)
    ref = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]
    np.testing.assert_allclose(GELU().forward(z), ref, rtol=0, atol=1e-6)


# -- losses -------------------------------------------------------------------------------
def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(8)
    z = rng.normal(size=(4, 5))
    t = np.array([0, 3, 4, 3])
    loss, g = softmax_cross_entropy(z, t)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(4), t])), rel=1e-12)
    assert_close(g, numeric_grad(lambda: softmax_cross_entropy(z, t)[0], z))
    np.testing.assert_allclose(g.sum(axis=1), 0, atol=1e-15)   # Σ_k (p − onehot) = 0


def test_softmax_cross_entropy_large_logits_and_bad_labels():
    loss, g = softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]))
    assert loss == pytest.approx(500.0) and np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        softmax_cross_entropy(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError, match="integers"):
        softmax_cross_entropy(np.zeros((2, 2)), np.array([0.0, 1.0]))


def test_mean_squared_error_value_and_gradient():
    rng = np.random.default_rng(9)
    y, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    loss, g = mean_squared_error(y, t)
    assert loss == pytest.approx(0.5 * np.sum((y - t) ** 2) / 3)
    assert_close(g, numeric_grad(lambda: mean_squared_error(y, t)[0], y))


def test_accuracy_from_logits_or_classes():
    z = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(z, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([1, 1, 0]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        accuracy(z, np.array([1, 0]))
