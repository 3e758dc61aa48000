"""Small ONNX graphs with the node patterns ``torch.onnx.export`` (opsets 13–18) writes:
node names ``/fc1/Gemm``, tensors ``/fc1/Gemm_output_0``, initializers ``fc1.weight``,
scalars as ``Constant`` nodes, ``nn.Linear`` on 2-D input as ``Gemm(transB=1)``, on N-D
input as ``MatMul`` (pre-transposed weight) + ``Add(bias, ·)``."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

BATCH = "batch_size"      # the exporter's name of a dynamic_axes batch dimension


class Chain:
    """A layer chain under construction; ``x`` is the activation the next node reads."""

    def __init__(self, input_shape, opset=17):
        self.opset, self.nodes, self.inits = opset, [], []
        self.input = helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))
        self.x, self.rng, self._k = "input", np.random.default_rng(0), 0

    def const(self, name, shape):
        self.inits.append(numpy_helper.from_array(
            self.rng.standard_normal(shape).astype(np.float32), name))
        return name

    def scalar(self, value, dtype=np.float32):
        self._k += 1
        out = f"/Constant_{self._k}_output_0"
        self.nodes.append(helper.make_node("Constant", [], [out], name=f"/Constant_{self._k}",
                                           value=numpy_helper.from_array(np.asarray(value, dtype))))
        return out

    def node(self, op, scope, inputs=None, **attrs):
        out = f"/{scope}/{op}_output_0"
        self.nodes.append(helper.make_node(op, [self.x] if inputs is None else inputs, [out],
                                           name=f"/{scope}/{op}", **attrs))
        self.x = out
        return self

    # -- nn modules ---------------------------------------------------------------------
    def gemm(self, scope, n, m):
        return self.node("Gemm", scope, [self.x, self.const(f"{scope}.weight", (m, n)),
                                         self.const(f"{scope}.bias", (m,))],
                         alpha=1.0, beta=1.0, transB=1)

    def matmul_add(self, scope, n, m):
        self.node("MatMul", scope, [self.x, self.const(f"onnx::MatMul_{scope}", (n, m))])
        return self.node("Add", scope, [self.const(f"{scope}.bias", (m,)), self.x])

    def conv(self, scope, c_in, c_out, k, stride=1, pad=0, **extra):
        attrs = dict(dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[pad] * 4,
                     strides=[stride, stride])
        attrs.update(extra)
        return self.node("Conv", scope, [self.x, self.const(f"{scope}.weight",
                                                            (c_out, c_in // attrs["group"], k, k)),
                                         self.const(f"{scope}.bias", (c_out,))], **attrs)

    def maxpool(self, scope, k, **extra):
        attrs = dict(ceil_mode=0, kernel_shape=[k, k], pads=[0, 0, 0, 0], strides=[k, k])
        attrs.update(extra)
        return self.node("MaxPool", scope, **attrs)

    def act(self, op, scope):
        return self.node(op, scope)

    def flatten(self):
        return self.node("Flatten", "Flatten", axis=1)

    def view_flatten(self):
        """``x.view(x.size(0), -1)``: Shape → Gather → Unsqueeze → Concat → Reshape."""
        x = self.x
        self.node("Shape", "Shape", [x])
        self.node("Gather", "Gather", [self.x, self.scalar(0, np.int64)], axis=0)
        self.node("Unsqueeze", "Unsqueeze", [self.x, self.scalar([0], np.int64)])
        self.node("Concat", "Concat", [self.x, self.scalar([-1], np.int64)], axis=0)
        return self.node("Reshape", "Reshape", [x, self.x])

    def gelu(self, scope):
        """nn.GELU() below opset 20: x · ½(1 + erf(x/√2)) as the exporter spells it."""
        x = self.x
        self.node("Div", scope, [x, self.scalar(1.4142135381698608)])
        self.node("Erf", scope)
        self.node("Add", scope, [self.x, self.scalar(1.0)])
        self.nodes.append(helper.make_node("Mul", [x, self.x], [f"/{scope}/Mul_output_0"],
                                           name=f"/{scope}/Mul"))
        self.x = f"/{scope}/Mul_output_0"
        return self.node("Mul", f"{scope}_1", [self.x, self.scalar(0.5)])

    def model(self, output_shape):
        self.nodes.append(helper.make_node("Identity", [self.x], ["output"], name="/Identity_out"))
        out = helper.make_tensor_value_info("output", TensorProto.FLOAT, list(output_shape))
        g = helper.make_graph(self.nodes, "main_graph", [self.input], [out], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="pytorch", producer_version="2.1.0")
        m.ir_version = 8
        return m

    def save(self, path, output_shape):
        from onnx import save
        save(self.model(output_shape), str(path))
        return path


def mlp(opset=17, matmul=False):
    """configs/networks/mlp_784_256_128_10.yaml as nn.Sequential(Linear, Sigmoid, …)."""
    c = Chain([BATCH, 784], opset)
    lin = c.matmul_add if matmul else c.gemm
    lin("fc1", 784, 256).act("Sigmoid", "act1")
    lin("fc2", 256, 128).act("Sigmoid", "act2")
    return lin("fc3", 128, 10)


def lenet(opset=17, view=False):
    """configs/networks/lenet5.yaml (tanh, max pooling) as the exporter writes it."""
    c = Chain([BATCH, 1, 28, 28], opset)
    c.conv("conv1", 1, 6, 5, pad=2).act("Tanh", "act1").maxpool("pool1", 2)
    c.conv("conv2", 6, 16, 5).act("Tanh", "act2").maxpool("pool2", 2)
    if view:
        c.view_flatten()
        c.node("Dropout", "dropout")
    else:
        c.flatten()
    c.gemm("fc1", 400, 120).act("Tanh", "act3")
    c.gemm("fc2", 120, 84).act("Tanh", "act4")
    return c.gemm("fc3", 84, 10)


# -- graph patterns (residuals, attention, normalization) --------------------------------
class Graph(Chain):
    """A Chain with branches: nodes may name any earlier tensor."""

    def op(self, op, scope, inputs, **attrs):
        self.x = inputs[0]
        return self.node(op, scope, list(inputs), **attrs).x

    def reshape(self, scope, x, per_sample, computed=True):
        """``x.view(B, *per_sample)``; the exporter computes the target from Shape when
        the batch is dynamic (Shape → Gather → Unsqueeze → Concat), else a constant."""
        if not computed:
            return self.op("Reshape", scope, [x, self.scalar([1, *per_sample], np.int64)])
        b = self.op("Shape", f"{scope}_shape", [x])
        b = self.op("Gather", f"{scope}_gather", [b, self.scalar(0, np.int64)], axis=0)
        b = self.op("Unsqueeze", f"{scope}_unsq", [b, self.scalar([0], np.int64)])
        t = self.op("Concat", f"{scope}_cat", [b, self.scalar(list(per_sample), np.int64)],
                    axis=0)
        return self.op("Reshape", scope, [x, t])

    def linear_nd(self, scope, x, n, m):
        """nn.Linear on (B, T, n): MatMul with the pre-transposed weight, Add(bias)."""
        y = self.op("MatMul", scope, [x, self.const(f"onnx::MatMul_{scope}", (n, m))])
        return self.op("Add", scope, [self.const(f"{scope}.bias", (m,)), y])

    def layernorm(self, scope, x, d, decomposed=False):
        """nn.LayerNorm(d): one LayerNormalization from opset 17, decomposed below."""
        w, b = self.const(f"{scope}.weight", (d,)), self.const(f"{scope}.bias", (d,))
        if not decomposed:
            return self.op("LayerNormalization", scope, [x, w, b], axis=-1, epsilon=1e-5)
        if self.opset >= 18:
            axes = {"inputs": [self.scalar([-1], np.int64)]}
        else:
            axes = {"attrs": {"axes": [-1]}}

        def mean(s, t):
            return self.op("ReduceMean", s, [t] + axes.get("inputs", []),
                           **axes.get("attrs", {}))
        m = mean(scope, x)
        d_ = self.op("Sub", scope, [x, m])
        p = self.op("Pow", scope, [d_, self.scalar(2.0)])
        v = mean(f"{scope}_1", p)
        e = self.op("Add", scope, [v, self.scalar(1e-5)])
        s = self.op("Sqrt", scope, [e])
        y = self.op("Div", scope, [d_, s])
        y = self.op("Mul", scope, [y, w])
        return self.op("Add", f"{scope}_1", [y, b])

    def gelu_of(self, scope, x):
        self.x = x
        return self.gelu(scope).x

    def attention(self, scope, x, t, d, h, fused_transpose=False, causal=False):
        """A hand-written multi-head attention (q, k, v = nn.Linear; view, transpose;
        q @ k.transpose(-2, -1) / sqrt(d/h); softmax; @ v; transpose; reshape; out)."""
        dh = d // h
        q, k, v = (self.linear_nd(f"{scope}/{p}", x, d, d) for p in ("q", "k", "v"))
        q, k, v = (self.reshape(f"{scope}/view_{p}", y, (t, h, dh)) for p, y in
                   (("q", q), ("k", k), ("v", v)))
        q = self.op("Transpose", f"{scope}/tq", [q], perm=[0, 2, 1, 3])
        v = self.op("Transpose", f"{scope}/tv", [v], perm=[0, 2, 1, 3])
        if fused_transpose:     # the exporter's peephole pass fuses the two transposes
            kt = self.op("Transpose", f"{scope}/tk", [k], perm=[0, 2, 3, 1])
        else:
            k = self.op("Transpose", f"{scope}/tk", [k], perm=[0, 2, 1, 3])
            kt = self.op("Transpose", f"{scope}/tk_1", [k], perm=[0, 1, 3, 2])
        s = self.op("MatMul", f"{scope}/scores", [q, kt])
        s = self.op("Div", f"{scope}/scores", [s, self.scalar(float(np.sqrt(dh)))])
        if causal:
            mask = np.triu(np.full((t, t), -np.inf, np.float32), 1)
            s = self.op("Add", f"{scope}/mask", [s, self.scalar(mask)])
        p = self.op("Softmax", f"{scope}/softmax", [s], axis=-1)
        c = self.op("MatMul", f"{scope}/context", [p, v])
        c = self.op("Transpose", f"{scope}/tc", [c], perm=[0, 2, 1, 3])
        c = self.reshape(f"{scope}/view_c", c, (t, d))
        return self.linear_nd(f"{scope}/out", c, d, d)

    def encoder(self, scope, x, t, d, h, mlp, decomposed=False, **att):
        """A pre-norm transformer encoder layer (Xiong et al. 2020)."""
        a = self.attention(f"{scope}/attn", self.layernorm(f"{scope}/ln1", x, d, decomposed),
                           t, d, h, **att)
        r1 = self.op("Add", f"{scope}/res1", [x, a])
        f = self.linear_nd(f"{scope}/fc1", self.layernorm(f"{scope}/ln2", r1, d, decomposed),
                           d, mlp)
        f = self.linear_nd(f"{scope}/fc2", self.gelu_of(f"{scope}/gelu", f), mlp, d)
        return self.op("Add", f"{scope}/res2", [r1, f])


def encoder2(t=8, d=16, h=2, mlp=32, classes=10, opset=17, decomposed=False, **att):
    """Two pre-norm encoder layers on (T, d) token features, token mean, classifier."""
    g = Graph([BATCH, t, d], opset)
    x = g.encoder("layers.0", "input", t, d, h, mlp, decomposed, **att)
    x = g.encoder("layers.1", x, t, d, h, mlp, decomposed, **att)
    x = g.op("ReduceMean", "mean", [x], axes=[1], keepdims=0) if opset < 18 else \
        g.op("ReduceMean", "mean", [x, g.scalar([1], np.int64)], keepdims=0)
    g.x = x
    return g.gemm("head", d, classes)


def basic_block(g, scope, x, c_in, c_out, stride):
    """torchvision's BasicBlock as exported: conv-BN-relu-conv-BN (+ 1×1 conv-BN
    downsample when the shape changes), Add, Relu."""
    def bn(s, y, c):
        return g.op("BatchNormalization", s, [y] + [g.const(f"{s}.{p}", (c,)) for p in
                                                   ("weight", "bias", "mean", "var")],
                    epsilon=1e-5, momentum=0.9)
    g.x = x
    y = bn(f"{scope}/bn1", g.conv(f"{scope}/conv1", c_in, c_out, 3, stride, 1).x, c_out)
    g.x = g.op("Relu", f"{scope}/relu", [y])
    y = bn(f"{scope}/bn2", g.conv(f"{scope}/conv2", c_out, c_out, 3, 1, 1).x, c_out)
    short = x
    if stride != 1 or c_in != c_out:
        g.x = x
        short = bn(f"{scope}/down_bn", g.conv(f"{scope}/down", c_in, c_out, 1, stride).x, c_out)
    s = g.op("Add", f"{scope}/add", [y, short])
    return g.op("Relu", f"{scope}/relu_1", [s])


def resnet_tiny(classes=10):
    """Stem conv-BN-relu, two basic blocks (the second downsampling), GAP, classifier."""
    g = Graph([BATCH, 3, 16, 16])
    g.conv("conv1", 3, 8, 3, 1, 1)
    y = g.op("BatchNormalization", "bn1", [g.x] + [g.const(f"bn1.{p}", (8,)) for p in
                                                   ("weight", "bias", "mean", "var")])
    x = g.op("Relu", "relu", [y])
    x = basic_block(g, "layer1.0", x, 8, 8, 1)
    x = basic_block(g, "layer2.0", x, 8, 16, 2)
    g.x = g.op("GlobalAveragePool", "avgpool", [x])
    g.flatten()
    return g.gemm("fc", 16, classes)


def gpt_tiny(vocab=50, t=8, d=16, h=2, mlp=32):
    """Token + position embeddings, one causal pre-norm block, final LN, LM head."""
    g = Graph([BATCH, t], 17)
    g.input = helper.make_tensor_value_info("input", TensorProto.INT64, [BATCH, t])
    tok = g.op("Gather", "wte", [g.const("wte.weight", (vocab, d)), "input"])
    pos = g.op("Gather", "wpe", [g.const("wpe.weight", (t, d)),
                                 g.scalar(np.arange(t), np.int64)])
    x = g.op("Add", "embed", [tok, pos])
    x = g.encoder("h.0", x, t, d, h, mlp, causal=True)
    x = g.layernorm("ln_f", x, d)
    g.x = g.op("MatMul", "lm_head", [x, g.const("lm_head", (d, vocab))])
    return g
