"""The data a training step of a DAG network moves, with the tensors placed by liveness.

The generalisation of :class:`hwsim.training.dataflow.StepMoves` (same words of
``w = 2`` bytes, same ``move`` op fields) to a :class:`GraphNetwork`.  Tensors:

* ``in`` — the network input (held as the first analog reader's patch matrix
  ``V·N·w`` when an analog layer reads it first, else its ``B·elements·w``);
* ``act i`` — the output of node ``i``: an analog layer after its post-processing
  (``V·M·w``, as in a list) or a digital node (``B·elements·w``).  View nodes
  (reshape, transpose, flatten, patches, select, shortcut) store nothing: their
  readers read the producer's tensor (a view costs no copy);
* ``err i`` — the error at ``act i`` (same size).

Accesses, in the walk's order: an analog layer reads its input's patches ``V·N·w``
before its MVM and writes ``act`` after its post-processing; a digital node reads each
operand's elements and writes its output.  The loss writes ``err`` of the output.
Backward: an analog layer that runs its transposed MVM reads its ``err`` and writes its
input's ``err``; a digital node reads its ``err``, the forward tensors its backward
needs (``SAVES``: matmul and layernorm their operands, softmax and activations their
output) and writes each needed operand's ``err`` — a second contribution to an error
(a tensor with several consumers: a residual input, ln1 feeding q, k and v) is a read
and a write (the accumulation).  The update re-reads every analog layer's input and
error, as in a list.

**Placement (DAG liveness).**  A tensor is live from its first access to its last in
the step (a residual input until its ``add``, or until the update when an analog layer
reads it; the network output for the whole step, as in a list); tensors are placed in
the order of their first access at the lowest offset free for their whole size (first
fit; a dead tensor's bytes are reused).  Every tensor of a layer list lives until the
update, so a list's layout is the one of
:class:`~hwsim.training.dataflow.StepMoves` (``in``, ``act 1 … L``, ``err L … 1``).
"""
from __future__ import annotations

from hwsim.training.dataflow import WORD_BYTES, conv_geometry
from hwsim.training.nodes_base import size


class GraphMoves:
    """The ``move`` ops of one mini-batch of ``batch`` samples of ``net``."""

    def __init__(self, net, batch: int, word_bytes: int = WORD_BYTES):
        self.net, self.batch, self.w = net, int(batch), int(word_bytes)
        self.events = {}                         # hook -> [(tensor, bytes, access, layer, phase, what)]
        self.extent, self.offset = {}, {}
        self._plan()

    # -- the plan ---------------------------------------------------------------------------
    def store(self, i: int):
        """The tensor holding node ``i``'s output (a view's is its producer's)."""
        net = self.net
        while i >= 0 and (getattr(net.nodes[i], "VIEW", False) or i in net.head):
            i = net.head[i] if i in net.head else net.args[i][0]
        return "in" if i < 0 else ("act", i)

    def _elements(self, shape) -> int:
        return self.batch * size(shape) * self.w

    def _plan(self) -> None:
        net, b = self.net, self.batch
        seq = []

        def ev(hook, tensor, n, access, layer, phase, what, line=None):
            self.events.setdefault(hook, []).append((tensor, n, access, layer, phase, what,
                                                     line or {}))
            seq.append(tensor)

        def line_of(la):
            """A conv's patch read carries its line-buffer ``window`` and ``unique`` bytes
            (as :class:`~hwsim.training.dataflow.StepMoves`' do)."""
            g = conv_geometry(la)
            if not g:
                return None
            (c, h, w), (kh, _kw) = g["input"], g["kernel"]
            window = (kh - 1) * w * c * self.w
            return {"window": window, "unique": b * c * h * w * self.w} if window > 0 else None

        def analog(i):
            la = net.nodes[i].layer
            return b * la.vectors_per_sample, la
        first_in = next((i for i in range(len(net.nodes)) if self.store(net.args[i][0]) == "in"
                         and net.nodes[i].has_weights), None)
        if first_in is not None and all(net.nodes[i].has_weights or self._view(i)
                                        for i in net.consumers[-1]):
            v, la = analog(first_in)
            self.extent["in"] = v * la.in_features * self.w
        else:
            self.extent["in"] = self._elements(net.input_shape)
        for i, node in enumerate(net.nodes):
            if node.has_weights:
                v, la = analog(i)
                self.extent[("act", i)] = v * la.out_features * self.w
            elif not self._view(i) and i not in net.head:
                self.extent[("act", i)] = self._elements(node.shape)
        for t in list(self.extent):
            if t != "in":
                self.extent[("err", t[1])] = self.extent[t]
        # forward
        for i, node in enumerate(net.nodes):
            if i in net.head or self._view(i):
                continue
            if node.has_weights:
                v, la = analog(i)
                ev(("fi", i), self.store(net.args[i][0]), v * la.in_features * self.w, "read",
                   la.name, "forward", "patches", line_of(la))
                ev(("fo", i), ("act", i), self.extent[("act", i)], "write", la.name,
                   "forward", "activation")
            else:
                for j, s in zip(net.args[i], node.in_shapes):
                    ev(("fi", i), self.store(j), self._elements(s), "read", node.name,
                       "forward", "activation")
                ev(("fo", i), ("act", i), self.extent[("act", i)], "write", node.name,
                   "forward", "activation")
        last = self._err(len(net.nodes) - 1)
        ev("loss", last, self.extent[last], "write", self._name(len(net.nodes) - 1),
           "backward", "error")
        written = {last}
        for i in range(len(net.nodes) - 1, -1, -1):
            node = net.nodes[i]
            if not net.trainable[i] or i in net.head or self._view(i):
                continue
            need = [j >= 0 and net.trainable[j] for j in net.args[i]]
            err = self._err(i)
            if node.has_weights:
                if not any(need):
                    continue
                ev(("bi", i), err, self.extent[err], "read", node.name, "backward", "error")
                outs = [(self._err(net.args[i][0]), None)]
            else:
                ev(("bi", i), err, self._elements(node.shape), "read", node.name, "backward",
                   "error")
                saved = ([(self.store(j), s) for j, s in zip(net.args[i], node.in_shapes)]
                         if node.SAVES == "inputs" else
                         [(self.store(i), node.shape)] if node.SAVES == "output" else [])
                for t, s in saved:
                    ev(("bi", i), t, self._elements(s), "read", node.name, "backward",
                       "activation")
                outs = [(self._err(j), s) for j, s, nd in zip(net.args[i], node.in_shapes, need)
                        if nd]
            for t, s in outs:
                n = self.extent[t] if s is None else self._elements(s)
                if t in written:
                    ev(("bo", i), t, n, "read", node.name, "backward", "error")
                ev(("bo", i), t, n, "write", node.name, "backward", "error")
                written.add(t)
        for i, node in enumerate(net.nodes):
            if node.has_weights:
                v, la = analog(i)
                ev("update", self.store(net.args[i][0]), v * la.in_features * self.w, "read",
                   la.name, "update", "patches", line_of(la))
                ev("update", ("err", i), self.extent[("err", i)], "read", la.name, "update",
                   "error")
        seq.append(self.store(len(net.nodes) - 1))   # the logits: live for the whole step
        self._place(seq)

    def _view(self, i) -> bool:
        return bool(getattr(self.net.nodes[i], "VIEW", False))

    def _err(self, i):
        t = self.store(i)
        return ("err", t[1]) if t != "in" else ("err", -1)

    def _name(self, i) -> str:
        n = self.net.nodes[i]
        return n.layer.name if n.has_weights else n.name

    def _place(self, seq) -> None:
        """First fit in order of first access; a tensor's bytes are free after its last."""
        last = {t: k for k, t in enumerate(seq)}
        self.lifetime = {t: (seq.index(t), k) for t, k in last.items()}
        free, live, top = [], {}, 0              # free: sorted [(start, end)]
        for k, t in enumerate(seq):
            if t not in self.offset:
                n = self.extent.setdefault(t, 0)
                for j, (a, e) in enumerate(free):
                    if e - a >= n or e == top:       # a span at the top may grow
                        self.offset[t], top = a, max(top, a + n)
                        free[j] = (a + n, max(e, a + n))
                        break
                else:
                    self.offset[t], top = top, top + n
                live[t] = (self.offset[t], self.offset[t] + n)
            if last[t] == k:
                free = _merge(free + [live.pop(t)])
        self.working_set = top

    # -- the walk's hooks --------------------------------------------------------------------
    def _issue(self, hw, hook) -> None:
        for tensor, n, access, layer, phase, what, line in self.events.get(hook, ()):
            hw.op("move", n, layer=layer, role="-", phase=phase, access=access,
                  offset=self.offset[tensor], extent=self.extent[tensor], what=what, **line)

    def forward_in(self, hw, i: int) -> None:
        self._issue(hw, ("fi", i))

    def forward_out(self, hw, i: int) -> None:
        self._issue(hw, ("fo", i))

    def loss(self, hw) -> None:
        self._issue(hw, "loss")

    def backward_in(self, hw, i: int) -> None:
        self._issue(hw, ("bi", i))

    def backward_out(self, hw, i: int, need=None) -> None:
        self._issue(hw, ("bo", i))

    def update(self, hw) -> None:
        self._issue(hw, "update")


def _merge(spans):
    spans = sorted(s for s in spans if s[1] > s[0])
    out = []
    for a, e in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((a, e))
    return out
