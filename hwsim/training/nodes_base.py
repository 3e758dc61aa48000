"""The node interface of a graph network, and the nodes that wrap today's layers.

A node has ``inputs`` (names of its operands), per-sample ``in_shapes`` and ``shape``,
``forward(xs, train) -> y`` on batched arrays (B, …) and ``backward(g, need) -> grads``
(one per operand, None where ``need`` is false).  Its digital work per mini-batch of
``B`` samples is ``ops(B)`` (forward) and ``backward_ops(B, need)`` in the unit of the
contract: elements for element-wise kinds, MACs for ``matmul``, 0 for pure data
movement (reshape, transpose, flatten, patches, select, shortcut, concat).  ``OP`` is
the ``kind`` field of its ``digital`` op (:mod:`hwsim.core.ops`); ``VIEW`` nodes store
nothing of their own (their consumer reads the producer's tensor); ``SAVES`` says
which forward tensors the backward re-reads (``"inputs"`` or ``"output"``).

Analog layers (:class:`~hwsim.training.layers_dense.Linear`,
:class:`~hwsim.training.layers_conv.Conv2d`) stay :class:`Layer` objects — the training
algorithms read their ``last_input``/``last_delta`` — wrapped by :class:`LayerNode`.  A
``linear`` on (…, d) is ``prod(…)`` vectors per sample: the node reshapes the batch to
(B·prod(…), d) around the layer, so ``last_input`` is (B·T, d) as the updates need.
"""
from __future__ import annotations

import numpy as np


def size(shape) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


class Node:
    """Base of a digital node (see the module docstring)."""
    OP = "op"
    VIEW = False
    SAVES: str = ""
    has_weights = False

    def __init__(self, name: str, inputs, in_shapes, shape):
        self.name, self.inputs = name, list(inputs)
        self.in_shapes = [tuple(s) for s in in_shapes]
        self.shape = tuple(int(v) for v in shape)

    @property
    def kind(self) -> str:
        return self.OP

    def forward(self, xs, train: bool = True):
        raise NotImplementedError

    def backward(self, g, need):
        raise NotImplementedError

    def ops(self, batch: int) -> int:
        """Forward work per mini-batch (elements of the output unless a kind says else)."""
        return 0 if self.VIEW else batch * size(self.shape)

    def backward_ops(self, batch: int, need) -> int:
        """Backward work: one element per element of each operand's error by default."""
        if self.VIEW:
            return 0
        return sum(batch * size(s) for s, n in zip(self.in_shapes, need) if n)

    def params(self) -> dict:
        """Digital parameters by name (trained by digital SGD like the biases)."""
        return {}

    def grads(self) -> dict:
        return {}

    def apply_digital_updates(self, lr: float) -> None:
        for k, p in self.params().items():
            g = self.grads().get(k)
            if g is not None:
                p -= lr * g

    def _need(self, attr: str):
        val = getattr(self, attr, None)
        if val is None:
            raise RuntimeError(f"{self.name}: backward() called without a forward(train=True) first")
        return val


class LayerNode(Node):
    """A layer of :mod:`hwsim.training.layers` as a node of one operand.

    ``analog`` for linear/conv (its MVMs issue the analog ops; its digital
    post-processing is the one ``activation`` op of the list walk).  A linear on a
    (…, d) input runs ``prod(…)`` vectors per sample."""

    def __init__(self, layer, name, inputs, in_shapes, shape, op: str = "activation",
                 work: str = "output"):
        super().__init__(name, inputs, in_shapes, shape)
        self.layer, self._op, self._work = layer, op, work
        self.has_weights = bool(layer.has_weights)
        self.tokens = in_shapes[0][:-1] if layer.kind == "linear" else ()
        if layer.kind == "linear":
            layer.vectors_per_sample = size(self.tokens)
        self.VIEW = layer.kind == "flatten"

    @property
    def kind(self) -> str:
        return self.layer.kind if self.has_weights else self._op

    def forward(self, xs, train=True):
        x = xs[0]
        if self.tokens:
            y = self.layer.forward(x.reshape(-1, x.shape[-1]), train)
            return y.reshape((x.shape[0],) + self.shape)
        return self.layer.forward(x, train)

    def backward(self, g, need):
        if self.tokens:
            b = g.shape[0]
            gx = self.layer.backward(g.reshape(-1, g.shape[-1]), need_grad_in=need[0])
            return [None if gx is None else gx.reshape((b,) + self.in_shapes[0])]
        return [self.layer.backward(g, need_grad_in=need[0])]

    def ops(self, batch):
        if self.VIEW or self.has_weights:
            return 0
        return batch * size(self.in_shapes[0] if self._work == "input" else self.shape)

    def backward_ops(self, batch, need):
        if self.VIEW or self.has_weights or not need[0]:
            return 0
        return batch * size(self.in_shapes[0])

    def apply_digital_updates(self, lr):
        self.layer.apply_digital_updates(lr)
