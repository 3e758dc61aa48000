"""What every network offers besides its walk: the analog layer list and shapes, inference
in chunks, evaluation, the floating-point SGD step (layer 5).

:class:`~hwsim.training.network.Network` (a layer list) and
:class:`~hwsim.training.graph_network.GraphNetwork` (a DAG) both derive from
:class:`NetworkBase`; each provides ``forward``, ``backward``, ``analog_layers`` and
``apply_digital_updates``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwsim.training.dataflow import StepMoves
from hwsim.training.losses import accuracy, softmax_cross_entropy
from hwsim.training.network_spec import BIAS_INITS



def bias_values(rng, out_features: int, fan_in: int, scheme: str | None) -> np.ndarray:
    """The initial bias (out, 1): zero (default) or PyTorch's U(±1/√fan_in), drawn after
    the weights from the same stream (nn.Linear's order)."""
    if scheme in (None, "zero"):
        return np.zeros((out_features, 1))
    if scheme != "torch":
        raise ValueError(f"unknown bias init {scheme!r}; expected one of {BIAS_INITS}")
    a = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-a, a, size=(out_features, 1))


def init_bias(layer, rng, fan_in: int, scheme: str | None) -> None:
    """A digital bias set to :func:`bias_values` (nothing drawn for zero)."""
    if scheme in (None, "zero") or layer.bias is None or rng is None:
        return
    layer.bias[:] = bias_values(rng, layer.bias.size, fan_in, scheme)[:, 0]


class LayerShape(NamedTuple):
    """One analog layer as the mapper and the traces see it."""
    name: str
    kind: str                 # "linear" or "conv"
    out_features: int         # rows of W (crossbar columns driven by the outputs)
    in_features: int          # columns of W
    vectors_per_sample: int   # MVMs per sample: 1 for linear (T on (T, d)), H_out·W_out for conv


class NetworkBase:
    """Inference, evaluation, SGD and introspection over ``forward``/``analog_layers``."""

    def output(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Inference outputs in chunks of ``batch_size`` (bounded im2col memory)."""
        parts = [self.forward(x[i:i + batch_size], train=False) for i in range(0, len(x), batch_size)]
        return np.concatenate(parts, axis=0)

    def predict(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Predicted class of each sample (arg-max of the outputs)."""
        return self.output(x, batch_size).argmax(axis=1)

    def evaluate(self, x: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> tuple[float, float]:
        """(mean softmax cross-entropy, accuracy) on a labelled set."""
        z = self.output(x, batch_size)
        return softmax_cross_entropy(z, labels)[0], accuracy(z, labels)

    def sgd_step(self, lr: float) -> None:
        """Plain SGD after a backward pass: every backend's ``sgd_step`` plus the digital
        parameters.  The floating-point baseline; hardware algorithms issue their own updates.
        """
        for layer in self.analog_layers():
            step = getattr(layer.backend, "sgd_step", None)
            if step is None:
                raise TypeError(f"{layer.name}: backend {type(layer.backend).__name__} has no sgd_step; "
                                f"use a training algorithm for analog backends")
            if layer.last_delta is None:
                raise RuntimeError(f"{layer.name}: sgd_step() needs a backward() first")
            step(layer.last_input, layer.last_delta, lr)
        self.apply_digital_updates(lr)

    def analog_layer(self, name: str):
        for layer in self.analog_layers():
            if layer.name == name:
                return layer
        raise KeyError(f"no analog layer named {name!r}; have {[l.name for l in self.analog_layers()]}")

    def step_moves(self, batch: int):
        """The data movement of one mini-batch (:class:`~hwsim.training.dataflow.StepMoves`
        of the analog layers, whose convs carry the line buffer's geometry; a graph overrides
        it)."""
        return StepMoves(self.analog_layers(), batch)

    def layer_shapes(self) -> list[LayerShape]:
        return [LayerShape(l.name, l.kind, l.out_features, l.in_features, l.vectors_per_sample)
                for l in self.analog_layers()]
