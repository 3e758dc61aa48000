"""Read an ``.onnx`` file into the facts the importer maps: nodes, tensor shapes, which
tensors carry activations.

The ``onnx`` package (optional extra ``hwsim[onnx]``) is imported only here, when a
model is read.  The data input's first dimension is the batch (whatever the file says:
the batch is the caller's); every other dynamic dimension of it takes ``seq`` or is an
error.  Shapes come from ``onnx.shape_inference`` (strict mode, with data propagation
so exporter-computed Reshape targets resolve).

A tensor is *data* (an activation) when it is the graph's data input or the output of a
node that reads data; ``Shape``/``Size`` end that (their outputs are metadata, and the
Gather/Concat arithmetic exporters build on them is skipped with them).  Initializers,
``Constant`` outputs and anything computed from them alone are constants: weights,
biases, Reshape targets.
"""
from __future__ import annotations

from pathlib import Path

from hwsim.errors import ConfigError

#: ops whose outputs are shape metadata even though they read an activation.
META_OPS = ("Shape", "Size")
#: ops of the shape arithmetic :meth:`OnnxGraph.evaluate` follows
_SHAPE_OPS = ("Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Cast")
#: ONNX element types of integer token ids (INT32, INT64)
_INT_TYPES = (6, 7)
#: the data input's batch dimension, when the file leaves it dynamic, for shape inference.
_INFER_BATCH = 1


class OnnxGraph:
    """One model's main graph, shape-inferred.  ``nodes`` in file (topological) order."""

    def __init__(self, file: str, model, data_input: str, seq: int | None, onnx):
        self.file, self.model, self.data_input, self.seq = file, model, data_input, seq
        self._attribute_value = onnx.helper.get_attribute_value
        g = model.graph
        self.nodes = list(g.node)
        self.outputs = [o.name for o in g.output]
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.shapes: dict[str, tuple] = {}
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            dims = vi.type.tensor_type.shape.dim
            if vi.type.tensor_type.HasField("shape"):
                self.shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                             for d in dims)
        for init in g.initializer:
            self.shapes[init.name] = tuple(init.dims)
        self.data = {data_input}
        for node in self.nodes:
            if node.op_type not in META_OPS and any(i in self.data for i in node.input):
                self.data.update(o for o in node.output if o)
        self.consumers: dict[str, list] = {}
        for node in self.nodes:
            for i in node.input:
                if i:
                    self.consumers.setdefault(i, []).append(node)
        for o in self.outputs:
            self.consumers.setdefault(o, []).append(None)     # the graph output reads it
        self._numpy = onnx.numpy_helper.to_array
        self._producer = {o: n for n in self.nodes for o in n.output if o}
        self._inits = {i.name: i for i in g.initializer}
        self._constants = {n.output[0]: n for n in self.nodes
                           if n.op_type == "Constant" and n.output}
        elem = model.graph.input[[i.name for i in g.input].index(data_input)]
        self.input_int = elem.type.tensor_type.elem_type in _INT_TYPES

    def is_data_node(self, node) -> bool:
        return node.op_type not in META_OPS and any(i in self.data for i in node.input)

    def data_inputs(self, node) -> list[str]:
        return [i for i in node.input if i in self.data]

    def shape(self, name: str) -> tuple | None:
        """Inferred shape of a tensor (None where unknown), or None if nothing is known."""
        return self.shapes.get(name)

    def value(self, name: str):
        """The NumPy value of an initializer or ``Constant`` output, None for anything else."""
        if name in self._inits:
            return self._numpy(self._inits[name])
        node = self._constants.get(name)
        if node is None:
            return None
        a = self.attrs(node)
        if "value" in a:
            return self._numpy(a["value"])
        for k in ("value_float", "value_int", "value_floats", "value_ints"):
            if k in a:
                import numpy as np
                return np.asarray(a[k])
        return None

    def evaluate(self, name: str, shape_of=None):
        """The value of a shape-arithmetic tensor (``Shape`` of a tensor of known shape,
        ``Gather``, ``Unsqueeze``, ``Squeeze``, ``Concat``, ``Cast``, ``Constant``: what
        the exporter computes Reshape targets with), or None.  ``shape_of(tensor)``
        gives shapes the caller knows better than the inference (or None)."""
        v = self.value(name)
        if v is not None:
            return v
        node = self._producer.get(name)
        if node is None or node.op_type not in _SHAPE_OPS:
            return None
        import numpy as np
        a = self.attrs(node)
        if node.op_type == "Shape":
            s = (shape_of and shape_of(node.input[0])) or self.shapes.get(node.input[0])
            return None if s is None or None in s else np.asarray(s, dtype=np.int64)
        ins = [self.evaluate(i, shape_of) for i in node.input if i]
        if any(i is None for i in ins):
            return None
        if node.op_type == "Gather":
            return np.take(ins[0], ins[1], axis=a.get("axis", 0))
        if node.op_type == "Concat":
            return np.concatenate([np.atleast_1d(i) for i in ins], axis=a.get("axis", 0))
        if node.op_type in ("Unsqueeze", "Squeeze"):
            axes = a.get("axes", ins[1].tolist() if len(ins) > 1 else None)
            if node.op_type == "Squeeze":
                return np.squeeze(ins[0], axis=None if axes is None else tuple(axes))
            return np.expand_dims(ins[0], tuple(axes))
        return ins[0]                      # Cast

    def users(self, name: str) -> list:
        """The nodes reading tensor ``name`` (None stands for the graph output)."""
        return self.consumers.get(name, [])

    def attrs(self, node) -> dict:
        return {a.name: self._attribute_value(a) for a in node.attribute}

    def fail(self, node, message: str) -> ConfigError:
        """The one-line error for a node that cannot be mapped."""
        return ConfigError(f"node '{node.name or node.output[0]}' ({node.op_type}): {message}",
                           file=self.file)


def _onnx(file: str):
    try:
        import onnx
        import onnx.numpy_helper
        import onnx.shape_inference
    except ImportError:
        raise ConfigError("reading .onnx models needs the onnx package: "
                          "pip install 'hwsim[onnx]' (or pip install onnx)", file=file) from None
    return onnx


def read_model(path, seq: int | None = None) -> OnnxGraph:
    """Load, check and shape-infer ``path``; every failure is one :class:`ConfigError`."""
    file = str(path)
    onnx = _onnx(file)
    if not Path(file).is_file():
        raise ConfigError("no such ONNX file", file=file)
    try:
        model = onnx.load(file)
        onnx.checker.check_model(model)
    except Exception as exc:   # protobuf DecodeError, ValidationError, …: all "not a model"
        raise ConfigError(f"not a readable ONNX model ({type(exc).__name__}: {_text(exc)})",
                          file=file) from None
    g = model.graph
    consts = {i.name for i in g.initializer}
    inputs = [i for i in g.input if i.name not in consts]
    if len(inputs) != 1 or len(g.output) != 1:
        raise ConfigError(f"the graph has {len(inputs)} data input(s) and {len(g.output)} "
                          f"output(s); hwsim networks take one input and give one output",
                          file=file)
    _fix_input_dims(inputs[0], seq, file)
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise ConfigError(f"ONNX shape inference failed: {_text(exc)}", file=file) from None
    return OnnxGraph(file, model, inputs[0].name, seq, onnx)


def _text(exc: Exception, limit: int = 300) -> str:
    """The onnx checker's message on one line (its context names the node and op)."""
    lines = [x.strip().replace("==> Context: ", "") for x in str(exc).splitlines()]
    text = "; ".join(x for x in lines if x) or "empty"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fix_input_dims(vi, seq: int | None, file: str) -> None:
    """Concrete dims for shape inference: a dynamic batch → 1, other dynamic dims → seq."""
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        raise ConfigError(f"input '{vi.name}' has no shape", file=file)
    dims = vi.type.tensor_type.shape.dim
    if len(dims) < 2:
        raise ConfigError(f"input '{vi.name}' has rank {len(dims)}; expected (batch, features…)",
                          file=file)
    for i, d in enumerate(dims):
        if d.HasField("dim_value") and d.dim_value > 0:
            continue
        label = f"'{d.dim_param}'" if d.dim_param else "unnamed"
        if i == 0:
            d.dim_value = _INFER_BATCH
        elif seq is None:
            raise ConfigError(f"input '{vi.name}' dimension {i} ({label}) is dynamic; give its "
                              f"length with --seq N", file=file)
        else:
            d.dim_value = int(seq)
