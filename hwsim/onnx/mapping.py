"""Map an ONNX graph, as PyTorch's exporter writes it, onto hwsim's graph network.

The result is what a network file (``configs/networks/*.yaml``) holds: ``network`` —
the item list of the graph format (``docs/graph_format.md``: named items in
topological order, ``input:`` where an item does not read the item before it,
multi-operand kinds naming their operands) — + ``input_shape`` (+ ``input_dtype: int``
for token ids), which trains and traces; or, when an analog layer or a pooling has a
form the items cannot express but the crossbar shapes can (a dilated, non-square or
unevenly padded conv; a padded or ceil-mode pooling), ``layers`` — the shapes the
trace generator reads, from ONNX's shape inference — and ``trace_only``, why.  Weights
in the file are not used: hwsim draws its own initial weights; the file gives the
structure.  Items are named like the defaults of hand-written networks (``fc1``,
``conv1``, … for analog layers, ``<kind><k>`` for digital nodes, ``relu1`` for an
activation alone), so an import reads like the same network written in YAML.

Node patterns (opsets 13–18 of ``torch.onnx.export``; :mod:`hwsim.onnx.handlers` maps
one node, :mod:`hwsim.onnx.patterns` the multi-node ones):

* ``Gemm(x, W, b)`` (``nn.Linear`` on 2-D input, ``transB=1``) and ``MatMul(x, W)``
  with a constant ``W`` (+ ``Add(b, ·)``: the bias) → ``linear``, per token for a
  ``(batch, T, d)`` input; a ``Split`` of its output along the features → one
  ``linear`` per part (the rows of W split: q, k, v of a fused projection);
* ``Conv`` (2-D, one group) → ``conv``; a ``BatchNormalization`` right after it is
  **folded** into it (inference form ``γ(y − μ)/√(σ² + ε) + β`` is per-channel affine:
  the conv's weights absorb ``γ/√(σ² + ε)`` and its bias ``β − γμ/√(σ² + ε)``, so
  the conv gets a bias; hwsim trains the folded conv and keeps no batch statistics);
* ``MatMul`` of two activations → ``matmul`` (``transpose_b`` when its second operand
  is a ``Transpose`` of the last two axes that nothing else reads; a ``Div``/``Mul``
  by a constant scalar of its output or of one operand → ``scale``);
* ``Softmax`` inside the net → ``softmax`` (``causal`` when its input is masked scores,
  :func:`hwsim.onnx.patterns.causal_mask`); a final ``Softmax``/``LogSoftmax`` is the
  loss's own (hwsim trains with softmax cross-entropy) and is dropped;
* ``LayerNormalization`` (last axis) or its decomposed form → ``layernorm``;
* ``Relu``/``Sigmoid``/``Tanh``/``Gelu`` and the exporter's erf GELU → the
  ``activation`` of the item producing the input (when nothing else reads it) or an
  activation item; ``Add`` of two activations → ``add`` (a residual);
* ``Reshape``/``Flatten``/``Squeeze``/``Unsqueeze`` → ``reshape`` (a flatten of
  ``(C, H, W)`` → ``flatten``; to the same shape: nothing), ``Transpose`` →
  ``transpose``, ``Concat`` of activations → ``concat``;
* ``Gather`` of a constant ``(V, D)`` table by the integer input → ``embedding`` (an
  ``Add`` of a constant ``(T, D)`` table right after it → ``positions: true``);
  ``Gather`` of one index of an activation → ``select``; ``ReduceMean`` over one
  axis → ``mean``;
* ``MaxPool``/``AveragePool`` → ``pool``, ``GlobalAveragePool`` → ``pool: {kind: avg,
  global: true}``; ``Identity``, ``Dropout``, ``Cast`` are skipped.

Anything else — an elementwise product of two activations (gating), a constant added to
or multiplying an activation elsewhere, a grouped conv, a Split that is not of a linear
layer's output — is one :class:`~hwsim.errors.ConfigError` naming the node, its op type
and the file.
"""
from __future__ import annotations

from math import prod
from pathlib import Path

from hwsim.errors import ConfigError
from hwsim.onnx.handlers import Handlers
from hwsim.onnx.reader import OnnxGraph, read_model
from hwsim.onnx.values import Val


def import_onnx(path, seq: int | None = None) -> dict:
    """The network-file mapping of the ONNX model at ``path`` (see the module doc).

    ``seq`` is the length of every dynamic non-batch input dimension (tokens)."""
    g = read_model(path, seq)
    walk = Walk(g)
    walk.run()
    name = Path(str(path)).stem
    producer = " ".join(x for x in (g.model.producer_name, g.model.producer_version) if x)
    source = f"ONNX {Path(str(path)).name} (opset {g.opset}{', ' + producer if producer else ''})"
    if walk.trace_only:
        return {"name": name, "source": source, "layers": walk.rows(),
                "trace_only": walk.trace_only}
    out = {"name": name, "source": source, "input_shape": list(g.shape(g.data_input)[1:]),
           "network": walk.items}
    if g.input_int:
        out["input_dtype"] = "int"
    return out


#: default name stems of analog items (as the layer list names them)
STEMS = {"linear": "fc", "conv": "conv"}
#: ops that pass their input through (inference-mode exports)
SKIP_OPS = ("Identity", "Dropout", "Cast")


class Walk(Handlers):
    """The data nodes, input to output, into network items (and analog layer shapes)."""

    def __init__(self, g: OnnxGraph):
        self.g = g
        x = g.shape(g.data_input)
        self.values: dict[str, Val] = {g.data_input: Val("input", tuple(x[1:]))}
        self.items: list[dict] = []
        self.item: dict[str, dict] = {}      # name → item
        self.src: dict[str, str] = {}        # name → the one operand it reads
        self.head: dict[str, str] = {}       # name → the tensor now holding its output
        self.analog: dict[str, tuple] = {}   # name → (kind, M, N, vectors per sample)
        self.counts: dict[str, int] = {}
        self.trace_only: list[str] = []      # what only the layer shapes can express
        self.done: set[int] = set()          # ids of nodes a pattern consumed
        self.transposes: dict[Val, Val] = {}  # pending transposes made items

    # -- the walk ----------------------------------------------------------------------
    def run(self) -> None:
        g = self.g
        for node in g.nodes:
            if id(node) in self.done or not g.is_data_node(node):
                continue
            self.map_node(node)
        out = self.val(g.outputs[0], None)
        if not self.items:
            raise ConfigError("the graph maps to no hwsim node", file=g.file)
        if out.name != self.items[-1]["name"] or not out.plain:
            raise ConfigError(f"the graph output '{g.outputs[0]}' is not the output of the "
                              f"last node ('{self.items[-1]['name']}'): hwsim networks end "
                              f"with their output", file=g.file)
        if not self.analog:
            raise ConfigError("the graph has no Gemm, MatMul or Conv with a weight "
                              "initializer: nothing to map onto the crossbars", file=g.file)
        self._wire()

    def _wire(self) -> None:
        """``input:`` on every item that does not read the item before it.  A chain with
        a linear layer per token (on a (T, d) activation) says ``input: input`` on its
        first item: a graph network then builds it (a plain layer list's linear layer
        needs a vector input)."""
        prev = "input"
        for it in self.items:
            src = self.src.get(it["name"])
            if src is not None and src != prev:
                it["input"] = src
            prev = it["name"]
        if any(a[0] == "linear" and a[3] > 1 for a in self.analog.values()):
            self.items[0].setdefault("input", "input")

    def rows(self) -> list[dict]:
        """The analog layers' shapes, in item order."""
        return [{"name": it["name"], "kind": self.analog[it["name"]][0],
                 "out_features": self.analog[it["name"]][1],
                 "in_features": self.analog[it["name"]][2],
                 "vectors_per_sample": self.analog[it["name"]][3]}
                for it in self.items if it["name"] in self.analog]

    # -- values ------------------------------------------------------------------------
    def val(self, tensor: str, node) -> Val:
        v = self.values.get(tensor)
        if v is None:
            raise ConfigError(f"tensor '{tensor}' is not an activation hwsim knows "
                              f"(computed by an op it skipped)", file=self.g.file) \
                if node is None else self.g.fail(node, f"reads '{tensor}', which no mapped "
                                                       f"node produces")
        return v

    def plain(self, node, v: Val) -> Val:
        """``v`` as an operand that takes no pending transpose, scale or mask."""
        if v.transposed:      # a transpose no matmul took: an item of its own
            if v not in self.transposes:
                r = len(v.shape)
                self.transposes[v] = self.emit(
                    {"transpose": list(range(r - 2)) + [r - 1, r - 2]}, "transpose",
                    Val("", v.shape), Val(v.name, _swap(v.shape)), None)
            return self.transposes[v]
        if v.scale != 1.0 or v.causal:
            raise self.g.fail(node, "reads a scaled or masked activation that only a matmul "
                                    "or softmax can take")
        return v

    def shape(self, tensor: str) -> tuple | None:
        """Inferred per-sample shape of a tensor (None where unknown)."""
        s = self.g.shape(tensor)
        return None if not s or None in s[1:] else tuple(s[1:])

    def full_shape(self, tensor: str) -> tuple | None:
        """A plain activation's shape with a batch of 1 (for shape arithmetic)."""
        v = self.values.get(tensor)
        return (1, *v.shape) if v is not None and v.plain else None

    def sole_user(self, tensor: str, node) -> bool:
        """Whether ``node`` (a node, or the nodes of one pattern) is all that reads
        ``tensor`` (through skipped ops)."""
        nodes = node if isinstance(node, (list, tuple)) else [node]
        users = self.g.users(tensor)
        if not users or None in users:
            return False
        return all(any(u is n for n in nodes) or (
            u.op_type in SKIP_OPS and self.sole_user(u.output[0], nodes)) for u in users)

    def foldable(self, v: Val, node, kinds=None) -> dict | None:
        """The item producing ``v`` when ``node`` may change it (nothing else reads its
        output, and it is of one of ``kinds``), else None."""
        it = self.item.get(v.name)
        if it is None or not v.plain or not self.sole_user(self.head[v.name], node):
            return None
        return it if kinds is None or any(k in it for k in kinds) else None

    # -- emitting items ----------------------------------------------------------------
    def new_name(self, stem: str) -> str:
        self.counts[stem] = self.counts.get(stem, 0) + 1
        return f"{stem}{self.counts[stem]}"

    def emit(self, spec: dict, kind: str, out: Val | None, operand: Val | None,
             tensor: str | None, analog: tuple | None = None, after: str | None = None) -> Val:
        """Append item ``spec`` (its name from ``kind``); ``operand`` is the one input
        it reads (None for multi-operand kinds, which name theirs), ``out`` its output
        (name filled in), bound to ``tensor``; ``after``: insert after that item."""
        name = self.new_name(STEMS.get(kind, kind))
        item = {"name": name, **spec}
        if after is None:
            self.items.append(item)
        else:
            self.items.insert(self.items.index(self.item[after]) + 1, item)
        self.item[name] = item
        if operand is not None:
            self.src[name] = operand.name
        if analog is not None:
            self.analog[name] = analog
        v = out._replace(name=name)
        if tensor is not None:
            self.values[tensor] = v
            self.head[name] = tensor
        return v

    def bind(self, tensor: str, v: Val) -> None:
        """``tensor`` is ``v`` (a skipped op, or a node folded into ``v``'s item)."""
        self.values[tensor] = v
        if v.name in self.head and v.plain:
            self.head[v.name] = tensor

    def activation(self, name: str, node, x: str, out: str, readers=None) -> None:
        """Activation ``name`` of ``x`` (``readers``: the nodes of its pattern)."""
        v = self.val(x, node)
        it = self.foldable(v, readers or node)
        if it is not None and "activation" not in it:
            it["activation"] = name
            self.bind(out, v)
            return
        v = self.plain(node, v)
        self.emit({"activation": name}, name, v, v, out)

    def linear(self, node, x: Val, n: int, m: int, bias: bool) -> None:
        x = self.plain(node, x)
        if not x.shape or x.shape[-1] != n:
            raise self.g.fail(node, f"activation of shape {x.shape} does not match a weight "
                                    f"of {n} inputs")
        spec = {"linear": m} if bias else {"linear": m, "bias": False}
        self.emit(spec, "linear", Val("", x.shape[:-1] + (m,)), x, node.output[0],
                  analog=("linear", m, n, prod(x.shape[:-1])))

    def check_trace_only(self, node, what: str, checks) -> None:
        """Note what the items cannot express (the layer shapes still can)."""
        problems = [txt for bad, txt in checks if bad]
        if problems:
            self.trace_only.append(f"node '{node.name or node.output[0]}' ({node.op_type}): "
                                   f"hwsim's {what} has no {', '.join(problems)}")


def _swap(shape: tuple) -> tuple:
    return shape[:-2] + (shape[-1], shape[-2])
