"""Floating-point baseline: exact digital weights and plain SGD, W ← W − η·dᵀx/B... 

The layer's ``last_delta`` is the mean-reduced loss gradient at the layer output,
so ``ΔW = −η · dᵀ x`` (summed over the batch; the 1/B is already in d).  No analog
hardware is involved; the ops it issues are the digital work of a GPU-like
baseline: the forward/backward MVMs and the weight update as digital MACs.
"""
from __future__ import annotations

from hwsim.config.params import section
from hwsim.training.algorithms.base import Algorithm
from hwsim.training.algorithms.symbolic import Expect
from hwsim.training.layers_dense import FloatWeights  # noqa: F401  (base of the backend)


@section("float", "Floating-point SGD baseline (no hyperparameters)")
class FloatParams:
    pass


class _DigitalWeights(FloatWeights):
    """Float weights whose MVMs are digital MACs on the chip's digital unit."""

    def __init__(self, w, algo, name):
        if algo.symbolic:                       # shapes only (trace generate)
            self.out_features, self.in_features = w.shape
        else:
            super().__init__(w)
        self._algo, self._name = algo, name

    def forward(self, x):
        self._algo.hw.digital("mac", x.shape[0] * self.out_features * self.in_features,
                              layer=self._name, phase="forward")
        return Expect((len(x), self.out_features)) if self._algo.symbolic else super().forward(x)

    def backward(self, d):
        self._algo.hw.digital("mac", d.shape[0] * self.out_features * self.in_features,
                              layer=self._name, phase="backward")
        return Expect((len(d), self.in_features)) if self._algo.symbolic else super().backward(d)


class FloatSGD(Algorithm):
    NAME = "float"
    Params = FloatParams
    ROLES = ("W",)
    ANALOG = False

    def make_backend(self, name, out_features, in_features, init_w):
        b = _DigitalWeights(init_w, self, name)
        self.backends[name] = b
        return b

    def update(self, network, batch_size):
        for layer in network.analog_layers():
            x, d, b = layer.last_input, layer.last_delta, self.backends[layer.name]
            if not self.symbolic:
                b.sgd_step(x, d, self.lr)
            self.hw.digital("mac", x.shape[0] * b.out_features * b.in_features,
                            layer=layer.name, phase="update")
