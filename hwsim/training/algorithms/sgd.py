"""Analog SGD: forward/backward on W, pulsed update of W with ΔW = −η d xᵀ (PHYSICS.md §4).

The rank-1 updates of a mini-batch are applied sample by sample with the parallel
stochastic pulse trains of Gokmen & Vlasov (Front. Neurosci. 10:333, 2016): BL and
update management, ``P(column j fires) = B|x_j|``, ``P(row i fires) = A|d_i|``, one
pulse per coincidence.  ``tile.update.pulse_type: mean_count`` uses deterministic
trains ``n = round(η|d_i x_j|/ε)`` instead, ``scheme: serial_row`` the NeuroSim row
write.  The layer's ``last_delta`` already carries the 1/B of the mean loss, so the
batch update is ``W ← W − η Σ_b d_b x_bᵀ``.
"""
from __future__ import annotations

from hwsim.config.params import section
from hwsim.training.algorithms.analog import AnalogWeights
from hwsim.training.algorithms.base import Algorithm, AnalogParams


@section("sgd", "Analog SGD: pulsed update of W (pulse settings in tile.update)")
class SGDParams(AnalogParams):
    pass


class AnalogSGD(Algorithm):
    NAME = "sgd"
    Params = SGDParams
    ROLES = ("W",)

    def __init__(self, params, training, context):
        super().__init__(params, training, context)
        self.arrays: dict = {}

    def make_backend(self, name, out_features, in_features, init_w):
        a = self.params.weight_scale
        arr = self.new_array(name, "W", (out_features, in_features), init_w=init_w / a)
        self.arrays[name] = arr
        self.backends[name] = AnalogWeights([(arr, 1.0)], scale=a)
        return self.backends[name]

    def update(self, network, batch_size):
        for layer in network.analog_layers():
            arr = self.arrays[layer.name]
            arr.pulsed_update(layer.last_input, layer.last_delta, self.lr / self.params.weight_scale)
            arr.end_of_batch()

    def stats(self):
        return {"pulses": {k: a.pulses for k, a in self.arrays.items()}}

    def state(self):
        return {"backends": self.backends, "arrays": self.arrays}

    def load_state(self, state):
        self.backends, self.arrays = state["backends"], state["arrays"]
        for a in self.arrays.values():
            a.attach(self.ctx)

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "ctx"}
