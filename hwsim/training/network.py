"""A feed-forward network built from the experiment's layer list.

The experiment YAML gives the workload network as a list, one layer per item::

    network:
      - {conv: {out: 6, kernel: 5, padding: 2}, activation: tanh}   # conv1
      - {pool: {kind: max, size: 2}}
      - {conv: {out: 16, kernel: 5}, activation: tanh}              # conv2
      - {pool: {kind: max, size: 2}}
      - {flatten: true}
      - {linear: 120, activation: tanh}                            # fc1
      - {linear: 84, activation: tanh}                             # fc2
      - {linear: 10}                                               # fc3

Item keys: exactly one of ``linear: <out features>``, ``conv: {out, kernel, stride=1,
padding=0}``, ``pool: {kind: max|avg, size, stride=size}``, ``flatten: true`` — or
only ``activation`` — plus optional ``activation: sigmoid|tanh|relu|none``,
``bias: true|false``, ``init: xavier|lecun|torch`` and ``bias_init: zero|torch`` (analog
layers) and ``name``.
Analog layers are named ``fc1, fc2 …`` and ``conv1, conv2 …`` in order unless named.

Initial weights are drawn from the caller's Generator, uniform in [−a, a]:
Xavier/Glorot ``a = √(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010, AISTATS) or
LeCun ``a = √(3 / fan_in)`` (LeCun et al. 1998, "Efficient BackProp"), with
fan_in = C_in·k² and fan_out = C_out·k² for a convolution.  Biases start at 0.

A bad spec raises :class:`~hwsim.errors.ConfigError` with the key path
(``workload.network[2].linear``) and, when the list came from
:func:`hwsim.config.yamlio.load_yaml`, the file and line.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from hwsim.training.layers_conv import POOLS, Conv2d
from hwsim.training.layers_dense import (ACTIVATIONS, AnalogBiasLinear, FloatWeights, Flatten, Layer,
                                         Linear, check_backend)
from hwsim.training.network_base import LayerShape, NetworkBase, bias_values, init_bias
from hwsim.training.graph import build_graph
from hwsim.training.network_spec import INITS, is_layer_list, parse_layers, spec_error

BackendFactory = Callable[[str, int, int, np.ndarray], object]


def float_backend(name: str, out_features: int, in_features: int, init_w: np.ndarray) -> FloatWeights:
    """The default backend factory: exact floating-point weights."""
    return FloatWeights(init_w)


class _ShapeOnly:
    """A weight backend of a shape only (``build_network(shapes_only=True)``)."""

    def __init__(self, out_features: int, in_features: int):
        self.out_features, self.in_features = out_features, in_features

    def forward(self, x):
        raise TypeError("a shapes-only network computes nothing")

    backward = weights = forward


def _shape_backend(name, out_features, in_features, init_w):
    return _ShapeOnly(out_features, in_features)


def init_weights(rng: np.random.Generator, out_features: int, in_features: int,
                 fan_in: int, fan_out: int, scheme: str = "xavier") -> np.ndarray:
    """Uniform ``[−a, a]`` init, Xavier ``a = √(6/(fan_in+fan_out))``, LeCun
    ``a = √(3/fan_in)`` or PyTorch's default ``a = 1/√fan_in`` (nn.Linear/nn.Conv2d
    ``kaiming_uniform_(a=√5)``: gain √(2/(1+5)) times √(3/fan_in))."""
    if scheme == "xavier":
        a = np.sqrt(6.0 / (fan_in + fan_out))
    elif scheme == "lecun":
        a = np.sqrt(3.0 / fan_in)
    elif scheme == "torch":
        a = 1.0 / np.sqrt(fan_in)
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; expected one of {INITS}")
    return rng.uniform(-a, a, size=(out_features, in_features))


class Network(NetworkBase):
    """A sequence of layers; analog layers take their MVMs from weight backends."""

    def __init__(self, layers: list[Layer], input_shape: tuple):
        self.layers = list(layers)
        self.input_shape = tuple(input_shape)
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
        self.output_shape = shape
        weighted = [i for i, layer in enumerate(self.layers) if layer.has_weights]
        self._first_weighted = weighted[0] if weighted else len(self.layers)

    # -- inference and training passes ------------------------------------------------
    def forward(self, x: np.ndarray, train: bool = True, hw=None, moves=None) -> np.ndarray:
        """Outputs (B, …) for inputs (B, *input_shape); ``train`` keeps what backward needs.

        With ``hw`` (the operations API), the digital post-processing of every weighted
        layer's output (its activation, pooling, bias: one ``activation`` op of
        B·out·vectors elements on the digital unit) is issued where it happens in the
        dataflow: after the layer's MVM, before the next layer's MVM.  With ``moves`` (a
        :class:`~hwsim.training.dataflow.StepMoves`) each analog layer also reads its
        input patches before its MVM and writes its output map after the post-processing.
        """
        x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"network input: expected (B, {', '.join(map(str, self.input_shape))}), "
                             f"got {x.shape}")
        batch, pending, k = x.shape[0], None, -1
        for layer in self.layers:
            if layer.has_weights:
                self._post_process(hw, pending, batch, moves, k)
                pending, k = layer, k + 1
                if moves is not None:
                    moves.forward_in(hw, k)
            x = layer.forward(x, train)
        self._post_process(hw, pending, batch, moves, k)
        return x

    @staticmethod
    def _post_process(hw, layer, batch: int, moves=None, k: int = -1) -> None:
        if hw is not None and layer is not None:
            hw.digital("activation", batch * layer.out_features * layer.vectors_per_sample,
                       layer=layer.name, phase="forward")
            if moves is not None:
                moves.forward_out(hw, k)

    def backward(self, grad: np.ndarray, need_input_grad: bool = False, hw=None,
                 moves=None) -> np.ndarray | None:
        """Back-propagate ``∂L/∂output``; every analog layer then holds last_input/last_delta.

        The layers in front of the first analog layer need no error, so unless
        ``need_input_grad`` they are skipped and the first analog layer does no
        backward MVM (as on hardware).  Returns ∂L/∂input or None.  With ``hw`` and
        ``moves``, an analog layer that runs its transposed MVM reads its error before
        it and writes the error of the layer below after it.
        """
        k = sum(1 for layer in self.layers if layer.has_weights)
        for i in range(len(self.layers) - 1, -1, -1):
            if i < self._first_weighted and not need_input_grad:
                return None
            need = need_input_grad or i > self._first_weighted
            layer = self.layers[i]
            k -= layer.has_weights
            if moves is not None and layer.has_weights and need:
                moves.backward_in(hw, k)
            grad = layer.backward(grad, need_grad_in=need)
            if moves is not None and layer.has_weights and need:
                moves.backward_out(hw, k)
        return grad

    # -- updates -------------------------------------------------------------------------
    def apply_digital_updates(self, lr: float) -> None:
        """Gradient step on the digital parameters (biases) of every layer."""
        for layer in self.layers:
            layer.apply_digital_updates(lr)

    # -- introspection -------------------------------------------------------------------
    def analog_layers(self) -> list[Layer]:
        """The layers with weight backends, input to output."""
        return [layer for layer in self.layers if layer.has_weights]

    def summary(self) -> str:
        lines, shape = [f"input {self.input_shape}"], self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            extra = (f"  W {layer.out_features}×{layer.in_features} × {layer.vectors_per_sample} vec/sample"
                     if layer.has_weights else "")
            lines.append(f"{layer.name:<14} {layer.kind:<10} -> {shape}{extra}")
        return "\n".join(lines)


# -- building from the spec -------------------------------------------------------------
def build_network(spec, input_shape: tuple, backend_factory: BackendFactory | None = None,
                  rng: np.random.Generator | None = None, *, key: str = "workload.network",
                  n_outputs: int | None = None, init: str = "xavier",
                  where: Callable[[str], tuple] | None = None,
                  shapes_only: bool = False, graph: bool = False,
                  input_dtype: str = "float"):
    """Build a :class:`Network` for inputs of ``input_shape`` from a YAML layer list.

    ``backend_factory(name, out_features, in_features, init_w) -> WeightBackend`` places
    each analog layer (default: :func:`float_backend`).  ``rng`` draws the initial
    weights (required).  ``n_outputs`` (the number of classes) is checked against the
    last layer.  ``where(key_path) -> (file, line)`` locates errors when ``spec`` is
    not a line-tracked YAML list.  Each item is a declared
    :class:`~hwsim.training.network_spec.LayerSpec`; the shapes are checked here.
    ``shapes_only`` builds layers without weights (no ``rng``, nothing allocated): the
    checks and :meth:`Network.layer_shapes` of a network too large to build (a
    ``backend_factory`` given with it is called with ``init_w=None``).

    A list of today's kinds without ``input`` wiring is a :class:`Network` (bit for bit
    what it always was); any other list — graph kinds, blocks, wiring, or ``graph=True``
    — is a :class:`~hwsim.training.graph_network.GraphNetwork`
    (:func:`hwsim.training.graph.build_graph`; ``input_dtype: int`` for token ids).
    """
    if shapes_only:     # a factory given with shapes_only gets init_w None (trace generator)
        backend_factory, rng = backend_factory or _shape_backend, None
    elif not isinstance(rng, np.random.Generator):
        raise TypeError("build_network needs a numpy.random.Generator for the initial weights")
    factory = backend_factory or float_backend
    items = parse_layers(spec, key, where)

    def fail(msg, container, k, path):
        return spec_error(msg, container, k, path, where)

    if graph or not is_layer_list(items) or input_dtype != "float":
        net = build_graph(spec, items, input_shape, factory, rng, key=key, fail=fail, init=init,
                          init_weights=init_weights, shapes_only=shapes_only,
                          input_dtype=input_dtype)
        if n_outputs is not None and net.output_shape != (n_outputs,):
            last = len(spec) - 1
            raise fail(f"network output has shape {net.output_shape}, but the data set has "
                       f"{n_outputs} classes", spec, last, f"{key}[{last}]")
        return net

    shape = tuple(int(v) for v in input_shape)
    layers, counts, names = [], {}, set()

    def name_of(s, item, path, default_kind):
        if s.name is not None:
            nm = s.name
        else:
            counts[default_kind] = counts.get(default_kind, 0) + 1
            nm = f"{default_kind}{counts[default_kind]}"
        if nm in names:
            raise fail(f"duplicate layer name {nm!r}", item, "name", f"{path}.name")
        names.add(nm)
        return nm

    for i, (s, item) in enumerate(zip(items, spec)):
        path = f"{key}[{i}]"
        kind = s.kind
        bias = True if s.bias is None else s.bias
        scheme = s.init or init

        if kind == "linear":
            out = s.linear
            if len(shape) != 1:
                raise fail(f"input to this layer has shape {shape}; put {{flatten: true}} before it",
                           item, "linear", f"{path}.linear")
            nm = name_of(s, item, path, "fc")
            w0 = None if shapes_only else init_weights(rng, out, shape[0], shape[0], out, scheme)
            if s.analog_bias:             # one more column: [W b], driven by [x; 1]
                w0 = None if shapes_only else np.hstack([w0, bias_values(rng, out, shape[0],
                                                                         s.bias_init)])
                backend = factory(nm, out, shape[0] + 1, w0)
                check_backend(backend, nm, out, shape[0] + 1)
                layer = AnalogBiasLinear(backend, name=nm)
            else:
                backend = factory(nm, out, shape[0], w0)
                check_backend(backend, nm, out, shape[0])
                layer = Linear(backend, bias=bias, name=nm)
                init_bias(layer, rng, shape[0], s.bias_init)
        elif kind == "conv":
            p, c = f"{path}.conv", s.conv
            out, k, stride, pad = c.out, c.kernel, c.stride, c.padding
            if len(shape) != 3:
                raise fail(f"conv needs (C, H, W) input, got {shape} (load the data set with flatten: false)",
                           item, "conv", p)
            if min(shape[1:]) + 2 * pad < k:
                raise fail(f"kernel {k} does not fit input {shape[1]}×{shape[2]} with padding {pad}",
                           item["conv"], "kernel", f"{p}.kernel")
            nm = name_of(s, item, path, "conv")
            n_in = shape[0] * k * k
            w0 = None if shapes_only else init_weights(rng, out, n_in, n_in, out * k * k, scheme)
            backend = factory(nm, out, n_in, w0)
            check_backend(backend, nm, out, n_in)
            layer = Conv2d(backend, shape, k, stride=stride, padding=pad, bias=bias, name=nm)
            init_bias(layer, rng, n_in, s.bias_init)
        elif kind == "pool":
            p, pl = f"{path}.pool", s.pool
            size = pl.size
            stride = pl.stride if pl.stride is not None else size
            if len(shape) != 3:
                raise fail(f"pooling needs (C, H, W) input, got {shape}", item, "pool", p)
            if min(shape[1:]) < size:
                raise fail(f"window {size} larger than input {shape[1]}×{shape[2]}", item["pool"],
                           "size", f"{p}.size")
            layer = POOLS[pl.kind](size, stride, name=name_of(s, item, path, "pool"))
        elif kind == "flatten":
            layer = Flatten(name=name_of(s, item, path, "flatten"))
        else:
            layer = None
        if layer is not None:
            layers.append(layer)
            shape = layer.output_shape(shape)

        act = s.activation
        if act is not None and act != "none":
            base = layer.name if layer is not None else name_of(s, item, path, act)
            layers.append(ACTIVATIONS[act](name=f"{base}.{act}" if layer is not None else base))

    if n_outputs is not None and shape != (n_outputs,):
        last = len(spec) - 1
        raise fail(f"network output has shape {shape}, but the data set has {n_outputs} classes",
                     spec, last, f"{key}[{last}]")
    return Network(layers, input_shape)
