"""Map a feed-forward ONNX graph, as PyTorch's exporter writes it, onto hwsim's network.

The result is what a network file (``configs/networks/*.yaml``) holds: ``network`` (the
layer list of :mod:`hwsim.training.network`) + ``input_shape``, which trains and traces;
or, when a layer has a form the layer list cannot express but its crossbar shapes can
(a linear layer per token of a ``(batch, T, features)`` activation; a dilated, non-square
or unevenly padded conv; a padded or ceil-mode pooling), ``layers`` — the shapes the
trace generator reads, from ONNX's shape inference — and ``trace_only``, why.  Weights
in the file are not used: hwsim draws its own initial weights; the file gives the structure.

Node patterns (opsets 13–18 of ``torch.onnx.export``):

* ``Gemm(x, W, b)`` (``nn.Linear`` on 2-D input: ``transB=1``, W is out × in) and
  ``MatMul(x, W)`` (W is in × out) followed by ``Add(b, ·)`` → ``linear``;
* ``Conv`` (2-D, one group) → ``conv``; its im2col: ``C_in·kh·kw`` inputs and
  ``H_out·W_out`` vectors per sample;
* ``Relu``/``Sigmoid``/``Tanh``/``Gelu`` (either approximation: hwsim's is the erf form)
  and the exporter's GELU below opset 20, ``Div(x, √2) → Erf → Add(1) → Mul(x) →
  Mul(0.5)``, → the activation of the layer;
* ``MaxPool``/``AveragePool``/``GlobalAveragePool`` → ``pool``; ``Flatten``/``Reshape``
  to ``(batch, features)`` → ``flatten``;
* ``Identity`` and ``Dropout`` (inference export) are skipped, and a final ``Softmax`` or
  ``LogSoftmax`` is the loss's own (hwsim trains with softmax cross-entropy).

Anything else — a MatMul or Add of two activations (attention, residuals), a branch,
LayerNormalization, a Softmax inside the network, BatchNormalization, a grouped conv —
is one :class:`~hwsim.errors.ConfigError` naming the node, its op type and the file.
"""
from __future__ import annotations

from math import prod
from pathlib import Path

from hwsim.errors import ConfigError
from hwsim.onnx.reader import OnnxGraph, read_model

ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Gelu": "gelu"}
POOL_OPS = {"MaxPool": "max", "AveragePool": "avg"}
SKIP_OPS = ("Identity", "Dropout")
#: why an op with two activation operands, or a known graph-only op, is not mapped yet.
PENDING = "graph networks (residuals, attention, normalization) are not in hwsim yet"
_TWO_OPERANDS = {"MatMul": "a product of two activations (attention)",
                 "Add": "an addition of two activations (a residual connection)",
                 "Concat": "a concatenation of activations"}


def import_onnx(path, seq: int | None = None) -> dict:
    """The network-file mapping of the ONNX model at ``path`` (see the module doc).

    ``seq`` is the length of every dynamic non-batch input dimension (tokens)."""
    g = read_model(path, seq)
    walk = _Walk(g)
    walk.run()
    name = Path(str(path)).stem
    producer = " ".join(x for x in (g.model.producer_name, g.model.producer_version) if x)
    source = f"ONNX {Path(str(path)).name} (opset {g.opset}{', ' + producer if producer else ''})"
    if walk.trace_only:
        return {"name": name, "source": source, "layers": walk.rows,
                "trace_only": walk.trace_only}
    return {"name": name, "source": source, "input_shape": list(g.shape(g.data_input)[1:]),
            "network": walk.items}


class _Walk:
    """The chain of data nodes, input to output, into spec items and layer-shape rows."""

    def __init__(self, g: OnnxGraph):
        self.g = g
        self.current = g.data_input       # the activation the next node must read
        self.items: list[dict] = []       # network-spec items (hwsim.training.network)
        self.rows: list[dict] = []        # layer shapes (name, kind, M, N, vectors)
        self.counts: dict[str, int] = {}
        self.trace_only: list[str] = []   # what only the layer shapes can express
        self.prev_op = None               # op of the node that produced ``current``
        self.known: dict[str, tuple] = {}  # shapes inference left open, found by the walk

    def shape(self, name: str) -> tuple | None:
        """Shape of an activation; the batch (first) dimension may be None, no other."""
        s = self.known.get(name) or self.g.shape(name)
        return None if not s or None in s[1:] else s

    def run(self) -> None:
        g = self.g
        nodes = [n for n in g.nodes if g.is_data_node(n)]
        i = 0
        while i < len(nodes):
            node = nodes[i]
            gelu = _gelu_pattern(g, nodes, i, self.current)
            if gelu:
                self._activation("gelu", node)
                out = nodes[i + gelu - 1].output[0]
                if self.shape(out) is None and self.shape(self.current) is not None:
                    self.known[out] = self.shape(self.current)
                self.current, self.prev_op = out, "Gelu"
                i += gelu
                continue
            ins = g.data_inputs(node)
            if len(ins) > 1:
                why = _TWO_OPERANDS.get(node.op_type, "an op on two activations")
                raise g.fail(node, f"{why}; {PENDING}")
            if ins[0] != self.current:
                raise g.fail(node, f"reads '{ins[0]}', which an earlier node also reads "
                                   f"(a branch); {PENDING}")
            self._map(node, last=all(n.op_type in SKIP_OPS for n in nodes[i + 1:]))
            if self.shape(node.output[0]) is None and self.shape(self.current) is not None and (
                    node.op_type in SKIP_OPS or node.op_type in ACTIVATION_OPS
                    or node.op_type == "Add"):
                self.known[node.output[0]] = self.shape(self.current)
            self.current, self.prev_op = node.output[0], node.op_type
            i += 1
        if self.current not in g.outputs:
            raise ConfigError(f"the graph output '{g.outputs[0]}' is not the end of the "
                              f"layer chain ('{self.current}')", file=g.file)
        if not self.rows:
            raise ConfigError("the graph has no Gemm, MatMul or Conv with a weight "
                              "initializer: nothing to map onto the crossbars", file=g.file)

    # -- one node ----------------------------------------------------------------------
    def _map(self, node, last: bool) -> None:
        op, g = node.op_type, self.g
        if op in SKIP_OPS:
            return
        if op in ACTIVATION_OPS:
            return self._activation(ACTIVATION_OPS[op], node)
        handler = getattr(self, f"_op_{op}", None)
        if handler is not None:
            return handler(node, g.attrs(node))
        if op in ("Softmax", "LogSoftmax") and last:
            return   # the loss's softmax: hwsim's loss is softmax cross-entropy
        raise g.fail(node, f"op not supported by hwsim's layer-list networks; {PENDING}"
                     if op in ("Softmax", "LayerNormalization", "ReduceMean", "Transpose")
                     else "op not supported by hwsim's layer-list networks (supported: Gemm, "
                     "MatMul/Conv with weight initializers, Relu, Sigmoid, Tanh, Gelu, MaxPool, "
                     "AveragePool, Flatten, Reshape, Identity, Dropout)")

    def _weight(self, node, index: int, rank: int) -> tuple:
        if node.input[0] != self.current:
            raise self.g.fail(node, "the activation must be the first operand")
        shape = self.g.shape(node.input[index])
        if shape is None or len(shape) != rank or None in shape:
            raise self.g.fail(node, f"expected a constant weight of rank {rank} as operand "
                                    f"{index + 1}, got shape {shape}")
        return shape

    def _analog(self, node, kind: str, m: int, n: int, vectors: int, item: dict) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.rows.append({"name": f"{'fc' if kind == 'linear' else kind}{self.counts[kind]}",
                          "kind": kind, "out_features": m, "in_features": n,
                          "vectors_per_sample": vectors})
        self.items.append(item)

    def _linear(self, node, n: int, m: int, bias: bool) -> None:
        x = self.shape(self.current)
        if x is None or x[-1] != n:
            raise self.g.fail(node, f"activation of shape {x} does not match a weight of "
                                    f"{n} inputs")
        self._trace_only(node, "linear", ((len(x) > 2, f"per-token form on {x[1:]}"),))
        self.known[node.output[0]] = x[:-1] + (m,)
        self._analog(node, "linear", m, n, prod(x[1:-1]),
                     {"linear": m} if bias else {"linear": m, "bias": False})

    def _op_Gemm(self, node, a) -> None:
        if a.get("transA", 0):
            raise self.g.fail(node, "transA=1 (a transposed activation) is not a layer")
        w = self._weight(node, 1, 2)
        m, n = (w[0], w[1]) if a.get("transB", 0) else (w[1], w[0])
        self._linear(node, n, m, bias=len(node.input) > 2 and bool(node.input[2]))

    def _op_MatMul(self, node, a) -> None:
        n, m = self._weight(node, 1, 2)
        self._linear(node, n, m, bias=False)

    def _op_Add(self, node, a) -> None:
        """The bias of the MatMul just before (``MatMul + Add`` is nn.Linear on N-D input)."""
        b = self.g.shape(node.input[1] if node.input[0] == self.current else node.input[0])
        item = self.items[-1] if self.items else {}
        if (self.prev_op != "MatMul" or item.get("bias") is not False or b is None
                or not b or b[-1] != item["linear"] or prod(b) != b[-1]):
            raise self.g.fail(node, "adds a constant that is not the bias of the MatMul "
                                    "just before it")
        del item["bias"]

    def _op_Conv(self, node, a) -> None:
        g = self.g
        w = self._weight(node, 1, 4)
        x, y = self.shape(self.current), self.shape(node.output[0])
        if x is None or len(x) != 4 or y is None or len(y) != 4:
            raise g.fail(node, f"expected a 2-D convolution of (batch, C, H, W), got {x}")
        if a.get("group", 1) != 1:
            raise g.fail(node, f"group={a['group']} (grouped or depthwise convolution): "
                               f"hwsim's conv layer is one C_out × C_in·k² matrix")
        kernel = tuple(a.get("kernel_shape", w[2:]))
        strides = tuple(a.get("strides", (1, 1)))
        pads = tuple(a.get("pads", (0, 0, 0, 0)))
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        self._trace_only(node, "conv", (
            (any(d != 1 for d in a.get("dilations", (1, 1))), f"dilations={a.get('dilations')}"),
            (kernel[0] != kernel[1], f"a {kernel[0]}×{kernel[1]} kernel"),
            (strides[0] != strides[1], f"strides={list(strides)}"),
            (len(set(pads)) != 1, f"pads={list(pads)}"),
            (auto not in ("NOTSET", "VALID"), f"auto_pad={auto}")))
        item = {"conv": {"out": w[0], "kernel": kernel[0], "stride": strides[0], "padding": pads[0]}}
        if len(node.input) < 3 or not node.input[2]:
            item["bias"] = False
        # im2col: one C_in·kh·kw input vector per output pixel (shapes from the inference)
        self._analog(node, "conv", w[0], w[1] * kernel[0] * kernel[1], y[2] * y[3], item)

    def _trace_only(self, node, what: str, checks) -> None:
        """Note what the layer list cannot express (the layer shapes still can)."""
        problems = [txt for bad, txt in checks if bad]
        if problems:
            self.trace_only.append(f"node '{node.name or node.output[0]}' ({node.op_type}): "
                                   f"hwsim's {what} layer has no {', '.join(problems)}")

    def _activation(self, name: str, node) -> None:
        item = self.items[-1] if self.items else None
        analog = item is not None and ("linear" in item or "conv" in item)
        if analog and "activation" not in item and self.prev_op in ("Gemm", "MatMul", "Conv", "Add"):
            item["activation"] = name
        else:
            self.items.append({"activation": name})

    def _pool(self, node, kind: str, size: int, stride: int) -> None:
        self.items.append({"pool": {"kind": kind, "size": size, "stride": stride}})

    def _op_MaxPool(self, node, a) -> None:
        self._op_AveragePool(node, a)

    def _op_AveragePool(self, node, a) -> None:
        kernel, strides = tuple(a["kernel_shape"]), tuple(a.get("strides", (1, 1)))
        if len(kernel) != 2:
            raise self.g.fail(node, f"kernel_shape={list(kernel)}: only 2-D pooling maps")
        self._trace_only(node, "pooling", (
            (kernel[0] != kernel[1], f"{kernel[0]}×{kernel[1]} window"),
            (len(set(strides)) != 1, f"strides={list(strides)}"),
            (any(a.get("pads", (0,))), f"pads={a.get('pads')}"),
            (a.get("ceil_mode", 0), "ceil_mode=1"),
            (any(d != 1 for d in a.get("dilations", (1,))), f"dilations={a.get('dilations')}")))
        self._pool(node, POOL_OPS[node.op_type], kernel[0], strides[0])

    def _op_GlobalAveragePool(self, node, a) -> None:
        x = self.shape(self.current)
        if x is None or len(x) != 4:
            raise self.g.fail(node, f"expected (batch, C, H, W), got {x}")
        self._trace_only(node, "pooling", ((x[2] != x[3], f"{x[2]}×{x[3]} window"),))
        self._pool(node, "avg", x[2], x[2])

    def _op_Flatten(self, node, a, rank: int | None = None) -> None:
        """A flatten to (batch, features).  A Reshape whose target the exporter computes
        (``x.view(x.size(0), -1)``: Shape → Gather → Concat) may leave the inferred
        shape open; then a rank-2 target is read as that flatten."""
        x, y = self.shape(self.current), self.shape(node.output[0])
        if y is None and rank == 2 and x is not None:
            y = (x[0], prod(x[1:]))
        if y is None or len(y) != 2 or x is None or y[1] != prod(x[1:]) or (
                node.op_type == "Flatten" and a.get("axis", 1) != 1):
            raise self.g.fail(node, f"only a flatten of (batch, …) to (batch, features) maps; "
                                    f"got {x} → {y}")
        self.known[node.output[0]] = (x[0], prod(x[1:]))
        if len(x) > 2:
            self.items.append({"flatten": True})

    def _op_Reshape(self, node, a) -> None:
        target = self.g.shape(node.input[1]) if len(node.input) > 1 else None
        self._op_Flatten(node, a, rank=target[0] if target and len(target) == 1 else None)


def _gelu_pattern(g: OnnxGraph, nodes: list, i: int, x: str) -> int:
    """How many nodes from ``nodes[i]`` form the exporter's exact GELU of ``x``
    (``Div(x, √2)``/``Mul(x, 1/√2)``, ``Erf``, ``Add(1)``, ``Mul(x, ·)``, ``Mul(·, 0.5)``;
    the constants themselves are not checked) — 0 when they do not."""
    ops = [n.op_type for n in nodes[i:i + 5]]
    if len(ops) < 5 or ops[0] not in ("Div", "Mul") or ops[1:4] != ["Erf", "Add", "Mul"]:
        return 0
    scale, erf, add, mul = nodes[i:i + 4]
    if (g.data_inputs(scale) != [x] or g.data_inputs(erf) != [scale.output[0]]
            or g.data_inputs(add) != [erf.output[0]]
            or sorted(g.data_inputs(mul)) != sorted([x, add.output[0]])):
        return 0
    if len(ops) == 5 and ops[4] == "Mul" and g.data_inputs(nodes[i + 4]) == [mul.output[0]]:
        return 5
    return 0
