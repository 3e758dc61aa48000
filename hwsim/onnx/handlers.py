"""One ONNX node → hwsim network items: the ``_op_<OpType>`` methods of the importer's walk
(:class:`hwsim.onnx.mapping.Walk`, which holds the values, items and names these use) —
layers, element-wise and attention ops here, layout and pooling in
:mod:`hwsim.onnx.shapes`.  What each op becomes is listed in :mod:`hwsim.onnx.mapping`."""
from __future__ import annotations

from math import prod

import numpy as np

from hwsim.onnx import patterns
from hwsim.onnx.shapes import ShapeHandlers
from hwsim.onnx.shapes import axis_of as _axis
from hwsim.onnx.shapes import window_out as _window_out
from hwsim.onnx.values import v as _v

ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Gelu": "gelu"}
SKIPPED = ("Identity", "Dropout", "Cast")
RESHAPES = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
SUPPORTED = ("Gemm, MatMul, Conv, BatchNormalization (after a Conv), Relu, Sigmoid, Tanh, "
             "Gelu, Softmax, LayerNormalization, Add, Mul/Div by a constant (scaled "
             "scores), Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Split (of a linear "
             "layer), Concat, Gather, ReduceMean, MaxPool, AveragePool, GlobalAveragePool, "
             "Where (causal mask), Identity, Dropout, Cast")


class Handlers(ShapeHandlers):
    """Per-op mapping (mixed into :class:`~hwsim.onnx.mapping.Walk`); the layout and
    pooling ops are :class:`~hwsim.onnx.shapes.ShapeHandlers`'."""

    def map_node(self, node) -> None:
        g, op = self.g, node.op_type
        if op in ("Div", "Mul"):
            gelu = patterns.gelu(g, node, node.input[0])
            if gelu is not None:
                self.done.update(id(n) for n in gelu[0])
                return self.activation("gelu", node, node.input[0], gelu[1], gelu[0])
        if op == "ReduceMean":
            x = self.val(node.input[0], node)
            ln = patterns.layernorm(g, node, node.input[0], len(x.shape) + 1)
            if ln is not None:
                self.done.update(id(n) for n in ln[0])
                return self._layernorm(node, x, ln[2], ln[1])
        if op in SKIPPED:
            return self.bind(node.output[0], self.val(node.input[0], node))
        if op in ACTIVATION_OPS:
            return self.activation(ACTIVATION_OPS[op], node, node.input[0], node.output[0])
        if op in RESHAPES:
            return self._reshape(node)
        handler = getattr(self, f"_op_{op}", None)
        if handler is None:
            raise g.fail(node, f"op not supported by hwsim's graph networks (supported: "
                               f"{SUPPORTED})")
        handler(node, g.attrs(node))

    # -- analog layers -----------------------------------------------------------------
    def _weight(self, node, index: int, rank: int) -> tuple:
        shape = self.g.shape(node.input[index])
        if node.input[index] in self.g.data or shape is None or len(shape) != rank \
                or None in shape:
            raise self.g.fail(node, f"expected a constant weight of rank {rank} as operand "
                                    f"{index + 1}, got shape {shape}")
        return shape

    def _op_Gemm(self, node, a) -> None:
        if a.get("transA", 0) or node.input[0] not in self.g.data:
            raise self.g.fail(node, "the activation must be the first operand, untransposed")
        w = self._weight(node, 1, 2)
        m, n = (w[0], w[1]) if a.get("transB", 0) else (w[1], w[0])
        self.linear(node, self.val(node.input[0], node), n, m,
                    bias=len(node.input) > 2 and bool(node.input[2]))

    def _op_MatMul(self, node, a) -> None:
        x, w = node.input
        data = self.g.data
        if x in data and w not in data:
            n, m = self._weight(node, 1, 2)
            return self.linear(node, self.val(x, node), n, m, bias=False)
        if x not in data or w not in data:
            raise self.g.fail(node, "a constant first operand (W·x) is not a layer; "
                                    "expected x·W or a product of two activations")
        self._matmul(node, self.val(x, node), self.val(w, node))

    def _matmul(self, node, a, b) -> None:
        scale = a.scale * b.scale
        a, b = self.plain(node, a._replace(scale=1.0)), b._replace(scale=1.0)
        tb = b.transposed                  # b.shape is then already (…, K, N)
        if not tb:
            b = self.plain(node, b)
        if len(a.shape) < 2 or len(b.shape) < 2 or a.shape[-1] != b.shape[-2] \
                or a.shape[:-2] != b.shape[:-2]:
            raise self.g.fail(node, f"product of activations of shapes {a.shape} and "
                                    f"{b.shape}: expected (…, M, K) × (…, K, N)")
        spec = {"inputs": [a.name, b.name], "transpose_b": tb, "scale": _f32(scale)}
        self.emit({"matmul": spec}, "matmul", _v(a.shape[:-1] + b.shape[-1:]), None,
                  node.output[0])

    def _op_Conv(self, node, a) -> None:
        g = self.g
        w = self._weight(node, 1, 4)
        x = self.plain(node, self.val(node.input[0], node))
        if len(x.shape) != 3:
            raise g.fail(node, f"expected a 2-D convolution of (C, H, W), got {x.shape}")
        if a.get("group", 1) != 1:
            raise g.fail(node, f"group={a['group']} (grouped or depthwise convolution): "
                               f"hwsim's conv layer is one C_out × C_in·k² matrix")
        kernel = tuple(a.get("kernel_shape", w[2:]))
        strides = tuple(a.get("strides", (1, 1)))
        pads = tuple(a.get("pads", (0, 0, 0, 0)))
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        self.check_trace_only(node, "conv layer", (
            (any(d != 1 for d in a.get("dilations", (1, 1))), f"dilations={a.get('dilations')}"),
            (kernel[0] != kernel[1], f"a {kernel[0]}×{kernel[1]} kernel"),
            (strides[0] != strides[1], f"strides={list(strides)}"),
            (len(set(pads)) != 1, f"pads={list(pads)}"),
            (auto not in ("NOTSET", "VALID"), f"auto_pad={auto}")))
        y = self.shape(node.output[0]) or (w[0], *_window_out(x.shape[1:], kernel, strides,
                                                                pads, a.get("dilations")))
        spec = {"conv": {"out": w[0], "kernel": kernel[0], "stride": strides[0],
                         "padding": pads[0]}}
        if len(node.input) < 3 or not node.input[2]:
            spec["bias"] = False
        # im2col: one C_in·kh·kw input vector per output pixel (shapes from the inference)
        self.emit(spec, "conv", _v(y), x, node.output[0],
                  analog=("conv", w[0], w[1] * kernel[0] * kernel[1], y[1] * y[2]))

    def _op_BatchNormalization(self, node, a) -> None:
        v = self.val(node.input[0], node)
        it = self.foldable(v, node, ("conv",))
        if it is None or "activation" in it:
            raise self.g.fail(node, "only a batch norm right after a Conv (read by nothing "
                                    "else) maps: it is folded into the conv's weights and bias")
        it.pop("bias", None)          # the folded shift β − γμ/√(σ²+ε) is the conv's bias
        self.bind(node.output[0], v)

    def _op_Split(self, node, a) -> None:
        v = self.val(node.input[0], node)
        it = self.foldable(v, node, ("linear",))
        r = len(v.shape) + 1
        if it is None or "activation" in it or _axis(a.get("axis", 0), r) != len(v.shape) - 1:
            raise self.g.fail(node, "only a Split of a linear layer's output along its "
                                    "features maps (one linear layer per part)")
        sizes = self.g.value(node.input[1]) if len(node.input) > 1 and node.input[1] else \
            a.get("split")
        m = it["linear"]
        k = len(node.output)
        sizes = [int(s) for s in np.asarray(sizes).reshape(-1)] if sizes is not None else \
            [m // k] * k
        if sum(sizes) != m or len(sizes) != k:
            raise self.g.fail(node, f"split sizes {sizes} do not cover the {m} outputs")
        kind, _m, n, vectors = self.analog[it["name"]]
        it["linear"] = sizes[0]
        self.analog[it["name"]] = (kind, sizes[0], n, vectors)
        src = self.src[it["name"]]
        self.bind(node.output[0], v._replace(shape=v.shape[:-1] + (sizes[0],)))
        after = it["name"]
        for out, size in zip(node.output[1:], sizes[1:]):
            spec = {k2: val for k2, val in it.items() if k2 not in ("name", "linear")}
            p = self.emit({"linear": size, **spec}, "linear", _v(v.shape[:-1] + (size,)),
                          _v((), src), out, analog=(kind, size, n, vectors), after=after)
            after = p.name

    # -- digital nodes -----------------------------------------------------------------
    def _op_Add(self, node, a) -> None:
        g = self.g
        data = [i for i in node.input if i in g.data]
        if len(data) == 2:
            x, y = (self.plain(node, self.val(i, node)) for i in node.input)
            if x.shape != y.shape:
                raise g.fail(node, f"adds activations of shapes {x.shape} and {y.shape}; "
                                   f"hwsim's add takes two of one shape (no broadcasting)")
            self.emit({"add": [x.name, y.name]}, "add", _v(x.shape), None, node.output[0])
            return
        x = self.val(data[0], node)
        c = node.input[1] if node.input[0] == data[0] else node.input[0]
        cs, cv = g.shape(c), g.value(c)
        it = self.foldable(x, node)
        if it is not None and it.get("bias") is False and "linear" in it and cs is not None \
                and prod(cs) == it["linear"] == cs[-1]:
            del it["bias"]                         # MatMul + Add: nn.Linear on N-D input
            return self.bind(node.output[0], x)
        if it is not None and "embedding" in it and cs is not None \
                and tuple(cs[-2:]) == x.shape and prod(cs) == prod(x.shape):
            it["embedding"]["positions"] = True    # learned position table (T, D)
            return self.bind(node.output[0], x)
        if cv is not None and "matmul" in (self.item.get(x.name) or {}) and \
                self.sole_user(self.head.get(x.name, ""), node) and patterns.causal_mask(cv):
            return self.bind(node.output[0], x._replace(causal=True))
        raise g.fail(node, "adds a constant that is not the bias of the layer before it, "
                           "a position table after an embedding or a causal mask")

    def _op_Where(self, node, a) -> None:
        cond, fill, s = node.input
        x = self.val(s, node) if s in self.g.data else None
        if x is None or "matmul" not in (self.item.get(x.name) or {}) or not \
                patterns.causal_condition(self.g.value(cond), self.g.value(fill)):
            raise self.g.fail(node, "only a causal mask of attention scores maps "
                                    "(Where(upper triangle, −inf, scores))")
        self.bind(node.output[0], x._replace(causal=True))

    def _scaled(self, node, a, divide: bool) -> None:
        g = self.g
        data = [i for i in node.input if i in g.data]
        c = [i for i in node.input if i not in g.data]
        cv = g.value(c[0]) if len(data) == 1 and c else None
        if cv is None or np.asarray(cv).size != 1 or (divide and node.input[0] != data[0]):
            what = "an elementwise product of two activations (gating)" if len(data) == 2 \
                else "a scaling that is not of attention scores"
            raise g.fail(node, f"{what} has no hwsim node")
        f = float(np.asarray(cv).reshape(-1)[0])
        f = 1.0 / f if divide else f
        x = self.val(data[0], node)
        it = self.foldable(x, node, ("matmul",))
        users = g.users(node.output[0])
        if it is not None and "activation" not in it and x.plain:
            it["matmul"]["scale"] = _f32(it["matmul"]["scale"] * f)
            return self.bind(node.output[0], x)
        if len(users) == 1 and users[0] is not None and users[0].op_type == "MatMul" \
                and all(i in g.data for i in users[0].input):
            return self.bind(node.output[0], x._replace(scale=x.scale * f))
        raise g.fail(node, "a scaling by a constant that is not of attention scores (or of "
                           "one operand of their product) has no hwsim node")

    def _op_Mul(self, node, a) -> None:
        self._scaled(node, a, divide=False)

    def _op_Div(self, node, a) -> None:
        self._scaled(node, a, divide=True)

    def _op_Softmax(self, node, a) -> None:
        x = self.val(node.input[0], node)
        if self._is_output(node):
            return self.bind(node.output[0], x)    # the loss's softmax
        if node.op_type == "LogSoftmax":
            raise self.g.fail(node, "a LogSoftmax inside the network has no hwsim node")
        axis = _axis(a.get("axis", -1), len(x.shape) + 1)
        if axis < 0:
            raise self.g.fail(node, "a softmax over the batch has no hwsim node")
        causal = x.causal
        x = self.plain(node, x._replace(causal=False))
        spec = {"axis": axis - len(x.shape) if axis == len(x.shape) - 1 else axis,
                "causal": causal}
        self.emit({"softmax": spec}, "softmax", _v(x.shape), x, node.output[0])

    _op_LogSoftmax = _op_Softmax

    def _is_output(self, node) -> bool:
        out = node.output[0]
        while True:
            users = self.g.users(out)
            if users == [None]:
                return True
            if len(users) != 1 or users[0].op_type not in SKIPPED:
                return False
            out = users[0].output[0]

    def _op_LayerNormalization(self, node, a) -> None:
        x = self.val(node.input[0], node)
        if _axis(a.get("axis", -1), len(x.shape) + 1) != len(x.shape) - 1:
            raise self.g.fail(node, f"axis={a.get('axis')}: hwsim's layernorm is over the "
                                    f"last dimension")
        self._layernorm(node, x, float(a.get("epsilon", 1e-5)), node.output[0])

    def _layernorm(self, node, x, eps: float, out: str) -> None:
        x = self.plain(node, x)
        self.emit({"layernorm": {"eps": _f32(eps)}}, "layernorm", _v(x.shape), x, out)


def _f32(x: float) -> float:
    """A float32 constant of the file as the decimal it was written as (7 digits)."""
    return float(f"{x:.7g}")
