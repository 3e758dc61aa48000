"""The walk of a DAG network: forward in topological order, backward in reverse, with
the digital ops and the data movement of every node (layer 5).

**Ops.**  An analog node (linear, conv) issues its MVMs through its weight backend and,
after its *post-processing* — the digital bias plus the chain of activation / pool /
flatten nodes that read only its output, each read by nothing else (today's layer-list
convention) — one ``digital`` op of kind ``activation`` and ``V·M`` elements
(``V = B·vectors_per_sample``), as :class:`~hwsim.training.network.Network` does; a
layer list walked as a graph gives the same op stream.  Every other digital node
issues its own ``digital`` op (``kind`` = its function, ``n`` = the counts of its
module's docstring) in the forward and in the backward pass; when a tensor's error has
several consumers, each contribution after the first is an ``add`` of its elements.
Digital ops go to the chip's one digital unit (the ``digital`` route of
:mod:`hwsim.elaborate.routes`); their ``layer`` field names the node.

**Data.**  The ``move`` ops come from :class:`hwsim.training.graph_moves.GraphMoves`
(the walk calls its hooks where the tensors are read and written).
"""
from __future__ import annotations

import numpy as np

from hwsim.training.network_base import NetworkBase
from hwsim.training.graph_moves import GraphMoves
from hwsim.training.nodes_base import LayerNode, size

#: node kinds an analog layer's post-processing absorbs (today's layer-list walk)
FUSABLE = ("activation", "pool", "flatten")


class GraphNetwork(NetworkBase):
    """Nodes in topological order; node ``i`` reads ``inputs`` (names, ``"input"`` = the
    network input) and the last node's output is the network output."""

    def __init__(self, nodes, input_shape: tuple, input_dtype: str = "float"):
        self.nodes = list(nodes)
        self.input_shape, self.input_dtype = tuple(input_shape), input_dtype
        index = {n.name: i for i, n in enumerate(self.nodes)}
        index["input"] = -1
        self.args = [[index[nm] for nm in n.inputs] for n in self.nodes]
        self.consumers = {i: [] for i in range(-1, len(self.nodes))}
        for i, a in enumerate(self.args):
            for j in a:
                self.consumers[j].append(i)
        self.output_shape = self.nodes[-1].shape
        self.trainable = []
        for i, n in enumerate(self.nodes):
            self.trainable.append(bool(n.has_weights or n.params()
                                       or any(j >= 0 and self.trainable[j] for j in self.args[i])))
        self.head = {}          # follower node -> the analog node whose post-processing it is
        self.group_end = {}     # analog node -> last node of its post-processing
        for i, n in enumerate(self.nodes):
            if n.has_weights:
                self.group_end[i] = i
            a = self.args[i]
            if (isinstance(n, LayerNode) and n.kind in FUSABLE and len(a) == 1 and a[0] >= 0
                    and self.consumers[a[0]] == [i]):
                h = a[0] if self.nodes[a[0]].has_weights else self.head.get(a[0])
                if h is not None and self.group_end[h] == a[0]:
                    self.head[i], self.group_end[h] = h, i

    # -- passes -----------------------------------------------------------------------------
    def forward(self, x: np.ndarray, train: bool = True, hw=None, moves=None,
                sym=None) -> np.ndarray:
        """Outputs (B, …) for inputs (B, *input_shape); ``train`` keeps what backward needs.
        ``hw``: the operations API (ops as in the module docstring); ``moves``: a
        :class:`~hwsim.training.graph_moves.GraphMoves` of this batch.  ``sym = (model,
        B)``: the symbolic walk of ``hwsim trace generate`` (no numbers: each analog
        layer's input is ``model.inputs(V, N)``, a shape-only stand-in)."""
        if sym is None:
            x = np.asarray(x)
            if x.shape[1:] != self.input_shape:
                raise ValueError(f"network input: expected (B, "
                                 f"{', '.join(map(str, self.input_shape))}), got {x.shape}")
            batch = x.shape[0]
        else:
            model, batch = sym
        vals = {-1: x}
        left = {j: len(c) for j, c in self.consumers.items()}
        ends = {e: h for h, e in self.group_end.items()}
        for i, node in enumerate(self.nodes):
            if moves is not None and i not in self.head:
                moves.forward_in(hw, i)
            if sym is None:
                y = node.forward([vals[j] for j in self.args[i]], train)
            elif node.has_weights:
                la, y = node.layer, None
                la.last_input = model.inputs(batch * la.vectors_per_sample, la.in_features)
                la.backend.forward(la.last_input)
            else:
                y = None
            if i in ends:
                h = self.nodes[ends[i]].layer
                if hw is not None:
                    hw.digital("activation", batch * h.out_features * h.vectors_per_sample,
                               layer=h.name, phase="forward")
                if moves is not None:
                    moves.forward_out(hw, ends[i])
            elif i not in self.head and not node.has_weights:
                n = node.ops(batch)
                if hw is not None and n:
                    hw.digital(node.kind, n, layer=node.name, phase="forward")
                if moves is not None:
                    moves.forward_out(hw, i)
            vals[i] = y
            if not train:                       # inference: drop what no one reads again
                for j in self.args[i]:
                    left[j] -= 1
                    if left[j] == 0 and j >= 0:
                        vals.pop(j, None)
        return vals[len(self.nodes) - 1]

    def backward(self, grad: np.ndarray, need_input_grad: bool = False, hw=None,
                 moves=None, sym=None) -> np.ndarray | None:
        """Back-propagate ``∂L/∂output`` in reverse topological order; every analog layer
        then holds last_input/last_delta.  Nodes upstream of every parameter are skipped
        (no error needed: the first analog layer runs no transposed MVM) unless
        ``need_input_grad``.  Returns ∂L/∂input or None.  ``sym``: as in :meth:`forward`
        (each analog layer's error is ``model.errors(V, M)``)."""
        last = len(self.nodes) - 1
        grads = {last: grad}
        model, batch = sym if sym is not None else (None, grad.shape[0])
        for i in range(last, -1, -1):
            node = self.nodes[i]
            if not (self.trainable[i] or need_input_grad):
                continue
            need = [self.trainable[j] or need_input_grad if j >= 0 else need_input_grad
                    for j in self.args[i]]
            digital = i not in self.head and not node.has_weights
            if moves is not None and (digital or (node.has_weights and any(need))):
                moves.backward_in(hw, i)
            g = grads.pop(i, None)
            if sym is None:
                gs = node.backward(g if g is not None else np.zeros((batch,) + node.shape), need)
            elif node.has_weights:
                la = node.layer
                la.last_delta = model.errors(batch * la.vectors_per_sample, la.out_features)
                if any(need):
                    la.backend.backward(la.last_delta)
                gs = need
            else:
                gs = need
            if digital and hw is not None:
                n = node.backward_ops(batch, need)
                if n:
                    hw.digital(node.kind, n, layer=node.name, phase="backward")
            for j, gj, nd, shp in zip(self.args[i], gs, need, node.in_shapes):
                if gj is None or gj is False or not nd:
                    continue
                if j in grads:
                    grads[j] = grads[j] + gj if sym is None else True
                    if hw is not None:
                        hw.digital("add", batch * size(shp), layer=node.name, phase="backward")
                else:
                    grads[j] = gj
            if moves is not None and (digital or (node.has_weights and any(need))):
                moves.backward_out(hw, i, need)
        return grads.get(-1) if need_input_grad else None

    def step_moves(self, batch: int):
        """The data movement of one mini-batch (:class:`~hwsim.training.graph_moves.GraphMoves`)."""
        return GraphMoves(self, batch)

    # -- parameters and introspection -------------------------------------------------------
    def apply_digital_updates(self, lr: float) -> None:
        """Digital SGD on the biases, layernorm gains/biases and embedding tables."""
        for node in self.nodes:
            node.apply_digital_updates(lr)

    def analog_layers(self) -> list:
        return [n.layer for n in self.nodes if n.has_weights]

    def digital_ops(self, batch: int) -> dict:
        """(node name, phase) → ``digital`` op count of one step (for reports and tests;
        the walk issues the same numbers)."""
        out = {}
        for i, n in enumerate(self.nodes):
            if i in self.head or n.has_weights:
                continue
            need = [self.trainable[j] if j >= 0 else False for j in self.args[i]]
            out[(n.name, "forward")] = n.ops(batch)
            out[(n.name, "backward")] = n.backward_ops(batch, need) if self.trainable[i] else 0
        return out

    def summary(self) -> str:
        lines = [f"input {self.input_shape}"]
        for n in self.nodes:
            extra = ""
            if n.has_weights:
                la = n.layer
                extra = f"  W {la.out_features}×{la.in_features} × {la.vectors_per_sample} vec/sample"
            lines.append(f"{n.name:<20} {n.kind:<10} <- {', '.join(n.inputs)} -> {n.shape}{extra}")
        return "\n".join(lines)

