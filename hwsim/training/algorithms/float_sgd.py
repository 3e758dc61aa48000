"""Floating-point baseline: exact digital weights and plain SGD, W ← W − η·dᵀx/B... 

The layer's ``last_delta`` is the mean-reduced loss gradient at the layer output,
so ``ΔW = −η · dᵀ x`` (summed over the batch; the 1/B is already in d).  No analog
hardware is involved; the ops it issues are the digital work of a GPU-like
baseline: the forward/backward MVMs and the weight update as digital MACs.
"""
from __future__ import annotations

from hwsim.config.params import section
from hwsim.training.algorithms.base import Algorithm
from hwsim.training.layers_dense import FloatWeights


@section("float", "Floating-point SGD baseline (no hyperparameters)")
class FloatParams:
    pass


class FloatSGD(Algorithm):
    NAME = "float"
    Params = FloatParams
    ROLES = ("W",)
    ANALOG = False

    def make_backend(self, name, out_features, in_features, init_w):
        b = FloatWeights(init_w)
        self.backends[name] = b
        return b

    def update(self, network, batch_size):
        for layer in network.analog_layers():
            x, d = layer.last_input, layer.last_delta
            self.backends[layer.name].sgd_step(x, d, self.lr)
            m, n = layer.backend.weights().shape
            self.hw.digital("mac", x.shape[0] * m * n, layer=layer.name, phase="update")
