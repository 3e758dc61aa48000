"""Timing of the NumPy network layer: im2col conv vs a per-output-pixel loop, LeNet-5 and MLP steps."""

import numpy as np

from hwsim.training.datasets import load_dataset
from hwsim.training.layers import Conv2d, FloatWeights
from hwsim.training.losses import softmax_cross_entropy
from hwsim.training.network import build_network
from functools import partial  # noqa: E402

from _timing import median_time as _median_time  # noqa: E402



median_time = partial(_median_time, repeats=7)


def loop_conv(x, w, k, pad):
    b, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    wm = w.reshape(w.shape[0], -1)
    y = np.empty((b, w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            y[:, :, i, j] = xp[:, :, i:i + k, j:j + k].reshape(b, -1) @ wm.T
    return y


rng = np.random.default_rng(0)
x = rng.normal(size=(32, 1, 28, 28))
w = rng.normal(size=(6, 1, 5, 5))
conv = Conv2d(FloatWeights(w.reshape(6, -1)), (1, 28, 28), 5, padding=2, bias=False)
t_im2col = median_time(lambda: conv.forward(x))
t_loop = median_time(lambda: loop_conv(x, w, 5, 2))
assert np.allclose(conv.forward(x), loop_conv(x, w, 5, 2))
g = rng.normal(size=(32, 6, 28, 28))
conv.forward(x)
t_back = median_time(lambda: conv.backward(g))
print(f"conv1 (B=32, 1x28x28 -> 6x28x28, k5 p2) forward im2col {t_im2col*1e3:.2f} ms, "
      f"per-pixel loop {t_loop*1e3:.2f} ms, ratio {t_loop/t_im2col:.1f}x; backward {t_back*1e3:.2f} ms")

mn = load_dataset({"name": "mnist", "path": str(__import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"), "flatten": False})
lenet = [{"conv": {"out": 6, "kernel": 5, "padding": 2}, "activation": "tanh"},
         {"pool": {"kind": "max", "size": 2}}, {"conv": {"out": 16, "kernel": 5}, "activation": "tanh"},
         {"pool": {"kind": "max", "size": 2}}, {"flatten": True},
         {"linear": 120, "activation": "tanh"}, {"linear": 84, "activation": "tanh"}, {"linear": 10}]
net = build_network(lenet, (1, 28, 28), None, rng, n_outputs=10)
for bs in (10, 32):
    xb, yb = mn.train_x[:bs], mn.train_y[:bs]

    def step():
        _, gr = softmax_cross_entropy(net.forward(xb), yb)
        net.backward(gr)
        net.sgd_step(0.01)
    t = median_time(step)
    print(f"LeNet-5 float SGD step B={bs}: {t*1e3:.2f} ms  -> {t*8000/bs:.1f} s per MNIST-10k epoch")
t = median_time(lambda: net.predict(mn.test_x), repeats=3)
print(f"LeNet-5 inference on 2000 test images: {t:.2f} s")

dg = load_dataset("digits")
mlp = build_network([{"linear": 32, "activation": "sigmoid"}, {"linear": 10}], (64,), None, rng)


def epoch():
    for xb, yb in dg.batches(10, rng):
        _, gr = softmax_cross_entropy(mlp.forward(xb), yb)
        mlp.backward(gr)
        mlp.sgd_step(1.0)
print(f"64-32-10 MLP float SGD epoch on digits (B=10, 144 steps): {median_time(epoch)*1e3:.1f} ms")
