"""Gradient checks for every node kind of a graph network, and the digital work of one
attention head counted by hand.

Gradient checks: float64, central differences ``(f(x+ε) − f(x−ε)) / 2ε`` with ε = 1e-6
on the scalar ``L = Σ R ⊙ y`` (R random), against each node's ``backward``.  The
truncation error is O(ε²·f''') and the rounding error O(u/ε) ≈ 1e-10 relative, so
the bound is a relative max error of 1e-6 (measured ≤ 1e-8 here).
"""
import numpy as np
import pytest

from hwsim.training.layers_conv import AvgPool2d, Conv2d, MaxPool2d
from hwsim.training.layers_dense import ACTIVATIONS, FloatWeights, Flatten, Linear
from hwsim.training.network import build_network
from hwsim.training.nodes_base import LayerNode
from hwsim.training.nodes_shape import (Add, Concat, GlobalAvgPool, Mean, Patches, Reshape,
                                        Select, Shortcut, Transpose)
from hwsim.training.nodes_transformer import Embedding, LayerNorm, Matmul, Positions, Softmax

EPS, BOUND, B = 1e-6, 1e-6, 2


def _numeric(f, x):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + EPS
        up = f()
        x[i] = old - EPS
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * EPS)
    return g


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


def check(node, xs, params=()):
    """Input gradients of every operand (and of the named digital parameters)."""
    rng = np.random.default_rng(1)
    y = node.forward(xs, True)
    r = rng.normal(size=y.shape)
    grads = node.backward(r, [True] * len(xs))
    loss = lambda: float((r * node.forward(xs, False)).sum())   # noqa: E731
    for x, g in zip(xs, grads):
        if g is not None:
            assert _rel(g, _numeric(loss, x)) < BOUND
    node.forward(xs, True)
    node.backward(r, [True] * len(xs))
    for k in params:
        assert _rel(node.grads()[k], _numeric(loss, node.params()[k])) < BOUND


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=(B,) + shape)


def _w(m, n):
    return FloatWeights(np.random.default_rng(2).normal(size=(m, n)) / np.sqrt(n))


def test_linear_on_tokens():
    """linear on (T, d): T vectors per sample; also the weight gradient dᵀx."""
    lin = Linear(_w(5, 4), name="fc")
    node = LayerNode(lin, "fc", ["input"], [(3, 4)], (3, 5))
    assert lin.vectors_per_sample == 3
    x = _x(3, 4)
    check(node, [x])
    w = lin.backend._w
    r = np.random.default_rng(1).normal(size=(B, 3, 5))
    node.forward([x], True)
    node.backward(r, [True])
    num = _numeric(lambda: float((r * node.forward([x], False)).sum()), w)
    assert _rel(lin.last_delta.T @ lin.last_input, num) < BOUND
    assert lin.last_input.shape == (B * 3, 4)


def test_conv_and_pools():
    conv = Conv2d(_w(3, 2 * 9), (2, 6, 6), 3, padding=1, name="c")
    check(LayerNode(conv, "c", ["input"], [(2, 6, 6)], (3, 6, 6)), [_x(2, 6, 6)])
    for cls in (MaxPool2d, AvgPool2d):
        pool = cls(2, name="p")
        check(LayerNode(pool, "p", ["input"], [(2, 6, 6)], (2, 3, 3), op="pool"), [_x(2, 6, 6)])
    check(GlobalAvgPool("g", ["input"], [(2, 3, 4)]), [_x(2, 3, 4)])
    check(LayerNode(Flatten(name="f"), "f", ["input"], [(2, 3)], (6,)), [_x(2, 3)])


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_activations(act):
    check(LayerNode(ACTIVATIONS[act](name=act), act, ["input"], [(3, 4)], (3, 4)), [_x(3, 4)])


def test_add_shortcut_concat():
    check(Add("a", ["x", "y"], [(2, 3)] * 2, (2, 3)), [_x(2, 3), _x(2, 3, seed=1)])
    sc = Shortcut("s", ["x"], [(2, 5, 5)], 2, 4)
    assert sc.shape == (4, 3, 3)
    check(sc, [_x(2, 5, 5)])
    check(Concat("c", ["x", "y"], [(2, 3), (4, 3)], (6, 3), 0), [_x(2, 3), _x(4, 3, seed=1)])


def test_layernorm_with_gain_and_bias():
    ln = LayerNorm("ln", ["x"], [(3, 5)], 1e-5)
    ln.gain[:] = np.random.default_rng(3).normal(size=5)
    ln.bias[:] = np.random.default_rng(4).normal(size=5)
    check(ln, [_x(3, 5)], params=("gain", "bias"))


@pytest.mark.parametrize("causal", [False, True])
def test_softmax(causal):
    check(Softmax("s", ["x"], [(2, 4, 4)], 2, causal), [_x(2, 4, 4)])


@pytest.mark.parametrize("transpose_b", [False, True])
def test_matmul(transpose_b):
    b_shape = (2, 5, 4) if transpose_b else (2, 4, 5)
    check(Matmul("m", ["a", "b"], [(2, 3, 4), b_shape], (2, 3, 5), transpose_b, 0.5),
          [_x(2, 3, 4), _x(*b_shape, seed=1)])


def test_embedding_and_positions():
    emb = Embedding("e", ["input"], [(4,)], 7, 3, True, np.random.default_rng(0))
    ids = np.array([[1, 2, 2, 6], [0, 1, 5, 5]])
    check(emb, [ids], params=("table", "pos"))
    check(Positions("p", ["x"], [(4, 3)], 0.5, np.random.default_rng(0)), [_x(4, 3)],
          params=("pos",))


def test_views_and_reductions():
    check(Reshape("r", ["x"], [(2, 6)], (3, 4)), [_x(2, 6)])
    check(Transpose("t", ["x"], [(2, 3, 4)], (1, 0, 2)), [_x(2, 3, 4)])
    p = Patches("p", ["x"], [(2, 4, 6)], 2)
    assert p.shape == (6, 8)
    check(p, [_x(2, 4, 6)])
    check(Mean("m", ["x"], [(3, 4)], 0), [_x(3, 4)])
    check(Select("s", ["x"], [(3, 4)], 0, 2), [_x(3, 4)])


def test_patches_order_is_channel_major_per_patch():
    """Hand example: patch (0, 0) of a 2-channel 4×4 image is [c0 2×2, c1 2×2], row-major."""
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    y = Patches("p", ["x"], [(2, 4, 4)], 2).forward([x])
    assert y[0, 0].tolist() == [0, 1, 4, 5, 16, 17, 20, 21]
    assert y[0, 1].tolist() == [2, 3, 6, 7, 18, 19, 22, 23]


class _Record:
    def __init__(self):
        self.ops = []

    def digital(self, kind, n, layer="", phase="digital"):
        self.ops.append((kind, n, layer, phase))

    def __getattr__(self, name):        # the analog ops of the float backends: none here
        return lambda *a, **k: None


@pytest.mark.parametrize("heads", [1, 2])
def test_attention_digital_ops_by_hand(heads):
    """One attention block on (T, d) = (6, 8), h heads of d_h = d/h, batch B = 3.

    Hand counts (Vaswani et al. 2017 §3.2): scores QKᵀ per head T·d_h·T MACs, context
    P·V per head T·T·d_h MACs, softmax T·T elements per head; backward: each matmul
    2× its MACs (dA and dB), softmax T·T elements.  The q/k/v/out linears are analog
    (their post-processing is one activation op of T·d elements each)."""
    t, d, b = 6, 8, 3
    dh = d // heads
    net = build_network([{"attention": {"heads": heads, "dim": d}}], (t, d),
                        rng=np.random.default_rng(0))
    hw = _Record()
    y = net.forward(np.random.default_rng(1).normal(size=(b, t, d)), hw=hw)
    net.backward(np.ones_like(y), need_input_grad=True, hw=hw)
    got = {(k, lay, ph): n for k, n, lay, ph in hw.ops}
    macs = b * heads * t * dh * t
    assert got[("matmul", "attention1.scores", "forward")] == macs
    assert got[("matmul", "attention1.context", "forward")] == macs
    assert got[("softmax", "attention1.softmax", "forward")] == b * heads * t * t
    assert got[("matmul", "attention1.scores", "backward")] == 2 * macs
    assert got[("matmul", "attention1.context", "backward")] == 2 * macs
    assert got[("softmax", "attention1.softmax", "backward")] == b * heads * t * t
    for part in ("q", "k", "v", "out"):
        assert got[("activation", f"attention1.{part}", "forward")] == b * t * d
    # the ln output feeds q, k and v: the input's error gets three contributions, two adds
    assert [n for k, n, lay, ph in hw.ops if k == "add"] == [b * t * d] * 2
    assert {k for k, *_ in hw.ops} == {"matmul", "softmax", "activation", "add"}
