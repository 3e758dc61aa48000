"""Digital nodes of a transformer: matmul of two activations, softmax, layernorm,
embedding lookup.

Work per mini-batch of B samples (``digital`` op ``n``; contract counts, backward ours):

=============  =========================================  ===============================
kind           forward                                    backward
=============  =========================================  ===============================
``matmul``     MACs = B·(∏ batched dims)·M·K·N            M·K·N MACs per operand whose
                                                          error is needed (dA = g·Bᵀ,
                                                          dB = Aᵀ·g): 2× forward for
                                                          attention
``softmax``    elements of the output                     elements (dx = y ⊙ (g − Σ g⊙y))
``layernorm``  elements of the output                     elements of the input (dx, with
                                                          dγ, dβ summed alongside)
``embedding``  elements of the output (B·T·D)             elements of the output (the
                                                          scatter-add into the tables)
``positions``  elements of the output (an ``add``)        elements (the table's gradient,
                                                          Σ over the batch)
=============  =========================================  ===============================

Gains, biases and tables are digital parameters trained by digital SGD
(``apply_digital_updates``), like the biases of the analog layers.
"""
from __future__ import annotations

import numpy as np

from hwsim.training.nodes_base import Node, size


class Matmul(Node):
    """``y = scale · A · B`` (or ``A · Bᵀ``), per sample, leading dims batched."""
    OP = "matmul"
    SAVES = "inputs"

    def __init__(self, name, inputs, in_shapes, shape, transpose_b: bool, scale: float):
        super().__init__(name, inputs, in_shapes, shape)
        self.transpose_b, self.scale = bool(transpose_b), float(scale)
        a = in_shapes[0]
        self.m, self.k = a[-2], a[-1]
        self.n = shape[-1]
        self.batched = size(a[:-2])

    def _b(self, b):
        return np.swapaxes(b, -1, -2) if self.transpose_b else b

    def forward(self, xs, train=True):
        a, b = xs
        if train:
            self._a, self._bb = a, b
        y = a @ self._b(b)
        return y * self.scale if self.scale != 1.0 else y

    def backward(self, g, need):
        a, b = self._need("_a"), self._bb
        g = g * self.scale if self.scale != 1.0 else g
        ga = g @ np.swapaxes(self._b(b), -1, -2) if need[0] else None
        gb = None
        if need[1]:
            gb = np.swapaxes(a, -1, -2) @ g          # dB' (…, K, N)
            if self.transpose_b:
                gb = np.swapaxes(gb, -1, -2)
        return [ga, gb]

    def macs(self, batch: int) -> int:
        return batch * self.batched * self.m * self.k * self.n

    def ops(self, batch):
        return self.macs(batch)

    def backward_ops(self, batch, need):
        return self.macs(batch) * sum(bool(n) for n in need)


class Softmax(Node):
    """Softmax along ``axis``; ``causal`` masks j > i on the last two axes."""
    OP = "softmax"
    SAVES = "output"

    def __init__(self, name, inputs, in_shapes, axis: int, causal: bool):
        super().__init__(name, inputs, in_shapes, in_shapes[0])
        self.axis, self.causal = axis, bool(causal)
        self._ax = axis + 1 if axis >= 0 else axis     # the axis of the batched array
        if causal:
            t_i, t_j = in_shapes[0][-2:]
            self._mask = np.triu(np.ones((t_i, t_j), dtype=bool), k=1)

    def forward(self, xs, train=True):
        z = xs[0]
        if self.causal:
            z = np.where(self._mask, -np.inf, z)
        ax = self._ax
        e = np.exp(z - z.max(axis=ax, keepdims=True))
        y = e / e.sum(axis=ax, keepdims=True)
        if train:
            self._y = y
        return y

    def backward(self, g, need):
        y = self._need("_y")
        if not need[0]:
            return [None]
        return [y * (g - (g * y).sum(axis=self._ax, keepdims=True))]


class LayerNorm(Node):
    """``y = γ ⊙ (x − μ)/√(σ² + ε) + β`` over the last dimension (Ba et al. 2016)."""
    OP = "layernorm"
    SAVES = "inputs"

    def __init__(self, name, inputs, in_shapes, eps: float):
        super().__init__(name, inputs, in_shapes, in_shapes[0])
        d = in_shapes[0][-1]
        self.eps = float(eps)
        self.gain, self.bias = np.ones(d), np.zeros(d)
        self.grad_gain = self.grad_bias = None

    def forward(self, xs, train=True):
        x = xs[0]
        mu = x.mean(axis=-1, keepdims=True)
        inv = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + self.eps)
        xhat = (x - mu) * inv
        if train:
            self._xhat, self._inv = xhat, inv
        return xhat * self.gain + self.bias

    def backward(self, g, need):
        xhat, inv = self._need("_xhat"), self._inv
        lead = tuple(range(g.ndim - 1))
        self.grad_gain = (g * xhat).sum(axis=lead)
        self.grad_bias = g.sum(axis=lead)
        if not need[0]:
            return [None]
        dxh = g * self.gain
        d = xhat.shape[-1]
        return [inv / d * (d * dxh - dxh.sum(axis=-1, keepdims=True)
                           - xhat * (dxh * xhat).sum(axis=-1, keepdims=True))]

    def params(self):
        return {"gain": self.gain, "bias": self.bias}

    def grads(self):
        return {"gain": self.grad_gain, "bias": self.grad_bias}

    def backward_ops(self, batch, need):
        return batch * size(self.in_shapes[0])


class Embedding(Node):
    """Token ids (T,) → rows of a (vocab, D) table (+ a learned (T, D) position table).

    Tables start N(0, 0.02²) (the GPT-2 initialisation, Radford et al. 2019)."""
    OP = "embedding"

    def __init__(self, name, inputs, in_shapes, vocab: int, dim: int, positions: bool, rng):
        t = in_shapes[0][0]
        super().__init__(name, inputs, in_shapes, (t, dim))
        self.vocab = int(vocab)
        draw = (lambda shp: rng.normal(0.0, 0.02, size=shp)) if rng is not None else np.zeros
        self.table = draw((vocab, dim))
        self.pos = draw((t, dim)) if positions else None
        self.grad_table = self.grad_pos = None

    def forward(self, xs, train=True):
        ids = np.asarray(xs[0]).astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab):
            raise ValueError(f"{self.name}: token ids must be in 0…{self.vocab - 1}")
        if train:
            self._ids = ids
        y = self.table[ids]
        return y + self.pos if self.pos is not None else y

    def backward(self, g, need):
        ids = self._need("_ids")
        self.grad_table = np.zeros_like(self.table)
        np.add.at(self.grad_table, ids.reshape(-1), g.reshape(-1, g.shape[-1]))
        self.grad_pos = g.sum(axis=0) if self.pos is not None else None
        return [None]

    def params(self):
        return {"table": self.table} | ({"pos": self.pos} if self.pos is not None else {})

    def grads(self):
        return {"table": self.grad_table, "pos": self.grad_pos}

    def backward_ops(self, batch, need):
        return batch * size(self.shape)


class Positions(Node):
    """``y = x + P`` with a learned (T, D) table P, N(0, std²) at the start (the position
    embedding of ViT, Dosovitskiy et al. 2021, eq. 1).  Its op is an ``add``."""
    OP = "add"

    def __init__(self, name, inputs, in_shapes, std: float, rng):
        super().__init__(name, inputs, in_shapes, in_shapes[0])
        self.pos = rng.normal(0.0, std, size=self.shape) if rng is not None else np.zeros(self.shape)
        self.grad_pos = None

    def forward(self, xs, train=True):
        return xs[0] + self.pos

    def backward(self, g, need):
        self.grad_pos = g.sum(axis=0)
        return [g if need[0] else None]

    def params(self):
        return {"pos": self.pos}

    def grads(self):
        return {"pos": self.grad_pos}

    def backward_ops(self, batch, need):
        return batch * size(self.shape)
