"""Digital nodes that add or move data: add, shortcut, concat, reshape, transpose,
patches, mean, select, global average pooling.

Work per sample (``digital`` op ``n``, the contract's counts): ``add`` = elements of
the output (forward; its backward copies the error to both operands: 0 — the sum of a
fan-out's errors is counted by the walk where it happens); ``mean`` and the global
``pool`` = elements of the input, forward and backward (the backward spreads
``g / count`` over the input); ``reshape``, ``transpose``, ``patches``, ``select``,
``shortcut`` and ``concat`` = 0 (data movement only, forward and backward).
"""
from __future__ import annotations

import numpy as np

from hwsim.training.nodes_base import Node, size


class Add(Node):
    """``y = a + b`` (identical shapes): the residual connection."""
    OP = "add"

    def forward(self, xs, train=True):
        return xs[0] + xs[1]

    def backward(self, g, need):
        return [g if n else None for n in need]

    def backward_ops(self, batch, need):
        return 0


class Shortcut(Node):
    """Option-A identity shortcut (He et al. 2016, CVPR, §4.2 "identity shortcuts with
    zero-padding"): ``y = x[:, ::S, ::S]`` with the channels zero-padded at the end to
    ``C_out``."""
    OP = "shortcut"
    VIEW = True

    def __init__(self, name, inputs, in_shapes, stride: int, out: int):
        c, h, w = in_shapes[0]
        self.stride = int(stride)
        s = self.stride
        super().__init__(name, inputs, in_shapes, (out, (h + s - 1) // s, (w + s - 1) // s))

    def forward(self, xs, train=True):
        x = xs[0][:, :, ::self.stride, ::self.stride]
        pad = self.shape[0] - x.shape[1]
        return np.pad(x, ((0, 0), (0, pad), (0, 0), (0, 0))) if pad else x

    def backward(self, g, need):
        if not need[0]:
            return [None]
        c = self.in_shapes[0][0]
        gx = np.zeros((g.shape[0],) + self.in_shapes[0], dtype=g.dtype)
        gx[:, :, ::self.stride, ::self.stride] = g[:, :c]
        return [gx]


class Concat(Node):
    """Concatenation along a per-sample axis."""
    OP = "concat"    # a copy into a new tensor: data movement only, no operations

    def __init__(self, name, inputs, in_shapes, shape, axis: int):
        super().__init__(name, inputs, in_shapes, shape)
        self.axis = axis

    def forward(self, xs, train=True):
        return np.concatenate(xs, axis=self.axis + 1)

    def backward(self, g, need):
        cuts = np.cumsum([s[self.axis] for s in self.in_shapes])[:-1]
        parts = np.split(g, cuts, axis=self.axis + 1)
        return [p if n else None for p, n in zip(parts, need)]

    def ops(self, batch):
        return 0

    def backward_ops(self, batch, need):
        return 0


class Reshape(Node):
    """A new per-sample shape (C order)."""
    OP = "reshape"
    VIEW = True

    def forward(self, xs, train=True):
        return xs[0].reshape((xs[0].shape[0],) + self.shape)

    def backward(self, g, need):
        return [g.reshape((g.shape[0],) + self.in_shapes[0]) if need[0] else None]


class Transpose(Node):
    """A permutation of the per-sample axes."""
    OP = "transpose"
    VIEW = True

    def __init__(self, name, inputs, in_shapes, perm):
        self.perm = tuple(int(p) for p in perm)
        super().__init__(name, inputs, in_shapes, tuple(in_shapes[0][p] for p in self.perm))

    def forward(self, xs, train=True):
        return xs[0].transpose((0,) + tuple(p + 1 for p in self.perm))

    def backward(self, g, need):
        if not need[0]:
            return [None]
        inv = np.argsort(self.perm)
        return [g.transpose((0,) + tuple(int(p) + 1 for p in inv))]


class Patches(Node):
    """ViT patchify: (C, H, W) → (H/P · W/P, C·P²), patches row-major, each (c, i, j)."""
    OP = "patches"
    VIEW = True

    def __init__(self, name, inputs, in_shapes, p: int):
        c, h, w = in_shapes[0]
        self.p = int(p)
        super().__init__(name, inputs, in_shapes, ((h // p) * (w // p), c * p * p))

    def forward(self, xs, train=True):
        x, p = xs[0], self.p
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // p, p, w // p, p).transpose(0, 2, 4, 1, 3, 5)
        return x.reshape((b,) + self.shape)

    def backward(self, g, need):
        if not need[0]:
            return [None]
        c, h, w = self.in_shapes[0]
        p, b = self.p, g.shape[0]
        g = g.reshape(b, h // p, w // p, c, p, p).transpose(0, 3, 1, 4, 2, 5)
        return [g.reshape((b, c, h, w))]


class Mean(Node):
    """Mean over one per-sample axis."""
    OP = "mean"

    def __init__(self, name, inputs, in_shapes, axis: int, op: str = "mean"):
        self.axis, self.OP = axis, op
        shape = tuple(v for i, v in enumerate(in_shapes[0]) if i != axis)
        super().__init__(name, inputs, in_shapes, shape)

    def forward(self, xs, train=True):
        return xs[0].mean(axis=self.axis + 1)

    def backward(self, g, need):
        if not need[0]:
            return [None]
        n = self.in_shapes[0][self.axis]
        gx = np.expand_dims(g / n, self.axis + 1)
        return [np.broadcast_to(gx, (g.shape[0],) + self.in_shapes[0]).copy()]

    def ops(self, batch):
        return batch * size(self.in_shapes[0])


class GlobalAvgPool(Mean):
    """Global average pooling (C, H, W) → (C,): the mean over H·W (one axis after a
    flattening view)."""

    def __init__(self, name, inputs, in_shapes):
        c, h, w = in_shapes[0]
        super().__init__(name, inputs, [(c, h * w)], 1, op="pool")
        self.in_shapes = [tuple(in_shapes[0])]

    def forward(self, xs, train=True):
        return xs[0].mean(axis=(2, 3))

    def backward(self, g, need):
        if not need[0]:
            return [None]
        c, h, w = self.in_shapes[0]
        return [np.broadcast_to((g / (h * w))[:, :, None, None], (g.shape[0], c, h, w)).copy()]


class Select(Node):
    """One index of one per-sample axis (the CLS token)."""
    OP = "select"
    VIEW = True

    def __init__(self, name, inputs, in_shapes, axis: int, index: int):
        self.axis, self.index = axis, index
        shape = tuple(v for i, v in enumerate(in_shapes[0]) if i != axis)
        super().__init__(name, inputs, in_shapes, shape)

    def forward(self, xs, train=True):
        return np.take(xs[0], self.index, axis=self.axis + 1)

    def backward(self, g, need):
        if not need[0]:
            return [None]
        gx = np.zeros((g.shape[0],) + self.in_shapes[0], dtype=g.dtype)
        idx = [slice(None)] * gx.ndim
        idx[self.axis + 1] = self.index
        gx[tuple(idx)] = g
        return [gx]
