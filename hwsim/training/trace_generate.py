"""``hwsim trace generate``: the op stream of a training algorithm from layer shapes alone.

For networks too large to train here (VGG-8, ResNet-32, an LSTM) the generator runs the
algorithm's own program (:mod:`hwsim.training.algorithms`, any registered algorithm)
in *symbolic* mode: its arrays and batches are shape-only stand-ins that carry the
expected statistics of :mod:`hwsim.training.algorithms.symbolic` (the model and its
parameters are documented there, defaults in ``MODEL``), so the ops — kinds, order,
roles, phases, item counts — come from the same code as a recorded run's, and only
the data statistics are modelled.  No numerics run: the cost is O(ops), not O(weights).

Per mini-batch of B samples, a layer with ``M`` outputs, ``N`` inputs and ``P`` vectors
per sample sees ``V = B·P`` vectors.  The network walk is the runner's
(:func:`hwsim.training.runner.train_epoch` over :class:`hwsim.training.network.Network`):
per layer its MVM then the ``digital`` activation of its output (``V·M``), the
``loss_grad`` (``B·M_last``), the backward MVMs from the last layer down to the second
(the first needs no input error), then the algorithm's updates; around them the data
movement of :class:`hwsim.training.dataflow.StepMoves` (the runner's hooks, in the same
places).  A recurrent layer
(``kind: lstm``) also runs its transposed MVMs when it is first: backpropagation
through time needs the error of ``h_{t−1}``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hwsim.config.experiment import TrainingConfig
from hwsim.config.params import build_section
from hwsim.config.yamlio import load_yaml
from hwsim.errors import ConfigError, TraceError
from hwsim.onnx import import_onnx
from hwsim.onnx.reference import import_reference
from hwsim.sim.hardware import Hardware
from hwsim.trace.format import TraceWriter, check_header
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.algorithms.symbolic import MODEL, Expect, StatModel, SymbolicContext
from hwsim.training.dataflow import StepMoves, conv_geometry
from hwsim.training.graph_network import GraphNetwork
from hwsim.training.network import build_network


def load_network(path, seq: int | None = None) -> dict:
    """A network YAML: ``network`` (spec list, hwsim.training.network) + ``input_shape``,
    or ``layers`` (shapes only: name, kind, out_features, in_features,
    vectors_per_sample), or ``onnx: model.onnx`` (+ ``seq``) — or an ``.onnx`` model
    itself (:mod:`hwsim.onnx`; ``seq``: dynamic token dimensions).
    Returns ``{"name", "source", "layers": [dict, ...]}``."""
    data = import_onnx(path, seq) if str(path).lower().endswith(".onnx") else load_yaml(str(path))
    if isinstance(data, dict) and "onnx" in data:
        data = import_reference(data, str(path), "", seq)
    if not isinstance(data, dict):
        raise ConfigError("network file must be a mapping with 'network' or 'layers'",
                          file=str(path))
    name = str(data.get("name", Path(path).stem))
    if "layers" in data:
        layers = [dict(x) for x in data["layers"]]
        check_header({"network": layers, "batch": 1, "algorithm": "-", "roles": ["W"],
                      "source": "-"}, str(path))
    elif "network" in data:
        if "input_shape" not in data:
            raise ConfigError("a 'network' spec needs 'input_shape' (e.g. [3, 32, 32])",
                              file=str(path), key="input_shape")
        dtype = str(data.get("input_dtype", "float"))
        net = build_network(data["network"], tuple(data["input_shape"]), key="network",
                            shapes_only=True, input_dtype=dtype)
        # shapes, and for a conv its input map and kernel (the line buffer's geometry)
        layers = [s._asdict() | conv_geometry(x)
                  for s, x in zip(net.layer_shapes(), net.analog_layers())]
        if isinstance(net, GraphNetwork):     # the generator walks the same graph
            return {"name": name, "source": str(data.get("source", "")), "layers": layers,
                    "graph": {"network": data["network"], "input_shape":
                              tuple(data["input_shape"]), "input_dtype": dtype}}
    else:
        raise ConfigError("network file needs 'network' (+ input_shape) or 'layers'",
                          file=str(path))
    return {"name": name, "source": str(data.get("source", "")), "layers": layers}


class _TraceSink(Hardware):
    """The operations API of :class:`~hwsim.sim.hardware.Hardware`, writing every op to a
    trace instead of simulating it (no machine: nothing is timed)."""

    def __init__(self, writer: TraceWriter):   # not Hardware.__init__: there is no machine
        self.recorder = writer

    def issue(self, op) -> None:
        self.recorder.record(op)

    def end_step(self, samples: int) -> None:
        self.recorder.end_step(samples)


class _ShapeLayer:
    """What an algorithm reads of a network layer: name, shape, backend, last x and d."""

    def __init__(self, shape: dict, backend):
        self.name, self.kind = shape["name"], shape.get("kind", "linear")
        self.out_features, self.in_features = shape["out_features"], shape["in_features"]
        self.vectors_per_sample = shape.get("vectors_per_sample", 1)
        self.conv = {k: shape[k] for k in ("input", "kernel") if k in shape}
        self.backend = backend
        self.last_input = self.last_delta = None
        self.digital = _digital_work(shape)


def _digital_work(shape: dict) -> dict:
    """A shapes-only layer's own digital work, ``digital: {forward: {kind: n}, backward:
    {kind: n}}`` with ``n`` per sample (e.g. an LSTM's cell update, configs/networks/
    lstm.yaml); issued after the layer's activation op and before its backward MVM."""
    work = shape.get("digital") or {}
    ok = isinstance(work, dict) and set(work) <= {"forward", "backward"} and all(
        isinstance(w, dict) and all(isinstance(k, str) and isinstance(n, int)
                                    and not isinstance(n, bool) and n >= 0
                                    for k, n in w.items()) for w in work.values())
    if not ok:
        raise ConfigError(f"layer '{shape['name']}': digital must be {{forward: {{kind: n}}, "
                          f"backward: {{kind: n}}}} with integer counts per sample, got "
                          f"{work!r}", key=f"layers.{shape['name']}.digital")
    return {ph: dict(w) for ph, w in work.items()}


class _ShapeNetwork:
    """The network's dataflow on shapes (the order of Network.forward/backward and the
    runner's step), driving the algorithm's backends and update."""

    def __init__(self, layers, algo, model: StatModel):
        self.algo, self.model = algo, model
        self.layers = []
        for x in layers:
            m, n = x["out_features"], x["in_features"]
            self.layers.append(_ShapeLayer(x, algo.make_backend(x["name"], m, n, Expect((m, n)))))

    def analog_layers(self):
        return self.layers

    def step(self, batch: int) -> None:
        hw, model = self.algo.hw, self.model
        moves = StepMoves(self.layers, batch)      # the runner's data movement, same hooks
        for i, lay in enumerate(self.layers):
            v = batch * lay.vectors_per_sample
            lay.last_input = model.inputs(v, lay.in_features)
            moves.forward_in(hw, i)
            lay.backend.forward(lay.last_input)
            hw.digital("activation", v * lay.out_features, layer=lay.name, phase="forward")
            for kind, n in lay.digital.get("forward", {}).items():
                hw.digital(kind, batch * n, layer=lay.name, phase="forward")
            moves.forward_out(hw, i)
        hw.digital("loss_grad", batch * self.layers[-1].out_features, phase="backward")
        moves.loss(hw)
        for i in range(len(self.layers) - 1, -1, -1):
            lay = self.layers[i]
            lay.last_delta = model.errors(batch * lay.vectors_per_sample, lay.out_features)
            if i > 0 or lay.kind == "lstm":
                for kind, n in lay.digital.get("backward", {}).items():
                    hw.digital(kind, batch * n, layer=lay.name, phase="backward")
                moves.backward_in(hw, i)
                lay.backend.backward(lay.last_delta)
                moves.backward_out(hw, i)
        moves.update(hw)
        self.algo.update(self, batch)
        hw.end_step(batch)


class _GraphSteps:
    """A graph network's walk on shapes (:class:`GraphNetwork` forward/backward with
    ``sym``), the same hooks and order as the runner's step, driving the algorithm."""

    def __init__(self, graph: dict, algo, model: StatModel):
        self.algo, self.model = algo, model

        def factory(name, m, n, init_w):
            return algo.make_backend(name, m, n, Expect((m, n)))
        self.net = build_network(graph["network"], graph["input_shape"], factory, key="network",
                                 shapes_only=True, input_dtype=graph["input_dtype"])

    def analog_layers(self):
        return self.net.analog_layers()

    def step(self, batch: int) -> None:
        hw, net, sym = self.algo.hw, self.net, (self.model, batch)
        moves = net.step_moves(batch)
        net.forward(None, hw=hw, moves=moves, sym=sym)
        hw.digital("loss_grad", batch * int(np.prod(net.output_shape)), phase="backward")
        moves.loss(hw)
        net.backward(None, hw=hw, moves=moves, sym=sym)
        moves.update(hw)
        self.algo.update(self.net, batch)
        hw.end_step(batch)


def _split_params(cls, params: dict) -> tuple[dict, dict]:
    fields = {f.name for f in dataclasses.fields(cls.Params)}
    unknown = [k for k in params if k not in MODEL and k not in fields]
    if unknown:
        raise TraceError(f"unknown generator parameter(s) {', '.join(unknown)} (model: "
                         f"{', '.join(MODEL)}; {cls.NAME}: {', '.join(sorted(fields))})")
    return ({k: v for k, v in params.items() if k in MODEL},
            {k: v for k, v in params.items() if k not in MODEL})


def generate_trace(network, batch: int, steps: int, algorithm: str, *, out,
                   samples: int | None = None, seq: int | None = None,
                   progress: bool = False, tile: tuple | None = None, **params) -> Path:
    """Write the trace of ``steps`` mini-batches of ``batch`` (the last one holds the rest
    of ``samples`` when given) for ``network`` (a YAML or ONNX path, a :func:`load_network`
    dict or a list of layer-shape dicts; ``seq``: see :func:`load_network`).
    ``params``: statistics model (``MODEL`` of
    :mod:`hwsim.training.algorithms.symbolic`) and the algorithm's own parameters.
    ``progress``: a tqdm bar over the steps on stderr.  ``tile``: (rows, cols) of the
    tiles of the accelerator the trace is for: a layer larger than a tile then issues
    its reads, flips and transfers per tile as a run recorded on those tiles does (the
    Tiki-Taka family: one transfer pointer per column of tiles); None: one array per
    layer, whatever the replaying accelerator."""
    cls = ALGORITHMS.get(algorithm)
    if cls is None:
        raise TraceError(f"cannot generate traces for algorithm '{algorithm}' (known: "
                         f"{', '.join(sorted(ALGORITHMS))})")
    if batch < 1 or steps < 1:
        raise TraceError(f"batch and steps must be >= 1, got batch={batch}, steps={steps}")
    model_params, algo_params = _split_params(cls, params)
    net = network if isinstance(network, dict) else (
        {"name": "network", "source": "", "layers": [dict(x) for x in network]}
        if isinstance(network, list) else load_network(network, seq))
    model = StatModel(**model_params)
    algo_cfg = build_section(cls.Params, algo_params, "params")
    training = build_section(TrainingConfig, {"algorithm": algorithm, "batch": batch}, "training")
    header = {"network": net["layers"], "batch": batch, "algorithm": algorithm,
              "roles": list(cls.ROLES),
              "source": f"generated: {net['name']} ({net['source']})".replace(" ()", ""),
              "generated": {"steps": steps, "samples": samples, "model": model.p,
                            "algorithm_params": dataclasses.asdict(algo_cfg),
                            **({"tile": list(tile)} if tile is not None else {})}}
    with TraceWriter(out, header) as w:
        algo = cls(algo_cfg, training, SymbolicContext(model, _TraceSink(w), tile_shape=tile))
        shapes = (_GraphSteps(net["graph"], algo, model) if net.get("graph")
                  else _ShapeNetwork(net["layers"], algo, model))
        left = samples if samples is not None else batch * steps
        with tqdm(total=steps, unit="step", desc=f"trace {algorithm}", mininterval=0.5,
                  disable=not progress) as bar:
            for _ in range(steps):
                b = min(batch, left)
                if b <= 0:
                    break
                shapes.step(b)
                left -= b
                bar.update(1)
    return Path(out)
