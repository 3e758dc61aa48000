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
