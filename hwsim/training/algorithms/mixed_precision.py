"""Mixed precision: a digital accumulator χ and sparse device writes (PHYSICS.md §4).

Nandakumar et al., Front. Neurosci. 14:406 (2020): the gradient is accumulated in
digital, ``χ ← χ − η d xᵀ`` per sample (O(MN) multiply-adds), and once per mini-batch
every element with ``|χ| ≥ ε`` is written to the array with ``n = trunc(χ/ε)``
pulses, ``χ ← χ − n·ε``.  The forward/backward MVMs run on the array W.  χ is a
fixed-point word of ``chi_bits`` bits with LSB ``ε/2^chi_frac_bits`` (saturating;
``chi_bits: 0`` keeps it in float64).  The χ arithmetic of one layer and batch is one
fused pass (:func:`hwsim.training.digital_accumulator.chi_update`: a Cython kernel and
its bit-identical NumPy twin, chosen by the run's ``backend``).  The writes are a
row-by-row program-and-verify free pulse write (``serial_write`` op, NeuroSim style) or
one parallel train (``write: parallel``).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from hwsim.config.params import param, section
from hwsim.training.algorithms.analog import AnalogWeights
from hwsim.training.algorithms.base import Algorithm, AnalogParams
from hwsim.training.digital_accumulator import chi_update

_NAND = "Nandakumar et al., Front. Neurosci. 14:406 (2020)"


@section("mixed-precision", "Digital accumulator χ with threshold writes of trunc(χ/ε) pulses")
class MixedPrecisionParams(AnalogParams):
    chi_bits: int = param(32, lo=0, hi=64, cite=_NAND,
                          desc="word width of χ in bits (0 = float64, no quantization)")
    chi_frac_bits: int = param(8, lo=0, hi=32, cite="hwsim's choice (χ LSB ε/2⁸)",
                               desc="fractional bits of χ below ε (LSB = ε/2^chi_frac_bits)")
    max_pulses: int = param(31, lo=1, cite="hwsim's choice, equal to the default bl_max",
                            desc="most pulses one device gets per write")
    write: str = param("serial", choices=("serial", "parallel"), cite=_NAND,
                       desc="serial: rows one after another; parallel: one pulse train")


class MixedPrecision(Algorithm):
    NAME = "mixed-precision"
    Params = MixedPrecisionParams
    ROLES = ("W",)

    def __init__(self, params, training, context):
        super().__init__(params, training, context)
        self.arrays: dict = {}
        self.chi: dict = {}
        self.accumulated: dict = {}      # Σ of all digital updates −η d xᵀ (for the books)
        self.written: dict = {}          # Σ n·ε moved out of χ into device pulses

    def make_backend(self, name, out_features, in_features, init_w):
        a = self.params.weight_scale
        arr = self.new_array(name, "W", (out_features, in_features), init_w=init_w / a)
        self.arrays[name] = arr
        shape = (out_features, in_features)
        if self.symbolic:             # no χ: its writes come from the statistics model
            self.backends[name] = AnalogWeights([(arr, 1.0)], scale=a)
            return self.backends[name]
        self.chi[name] = np.zeros(shape)
        self.accumulated[name] = np.zeros(shape)
        self.written[name] = np.zeros(shape)
        self.backends[name] = AnalogWeights([(arr, 1.0)], scale=a)
        return self.backends[name]

    def update(self, network, batch_size):
        p = self.params
        for layer in network.analog_layers():
            name = layer.name
            arr, x, d = self.arrays[name], layer.last_input, layer.last_delta
            m, n = arr.shape
            # one fused pass (hwsim.training.digital_accumulator): χ += −η/a·dᵀx, quantize,
            # A += Δχ, n = clip(trunc(χ/ε), ±P), χ −= n·ε, W += n·ε, max |n| per row
            res = self._chi_update(name, arr, x, d)
            self.hw.digital("mac", len(x) * m * n, layer=name, phase="update")
            self.hw.accumulate(name, m * n, "H", "update", compares=m * n, writes=res.writes)
            if res.writes:
                if p.write == "parallel":
                    arr.apply_pulses(res.counts, phase="update")
                else:
                    self._serial(arr, res.counts, res.row_max)
            arr.end_of_batch()

    def _chi_update(self, name, arr, x, d):
        """χ += −η/a·dᵀx and its threshold writes: ``writes``, ``counts``, ``row_max``."""
        if self.symbolic:
            counts = self.ctx.model.threshold(*arr.shape)
            return SimpleNamespace(writes=counts.writes, counts=counts, row_max=counts.row_max())
        p = self.params
        return chi_update(self.chi[name], d.T @ x, -(self.lr / p.weight_scale),
                          self.accumulated[name], self.written[name], arr.granularity,
                          chi_bits=p.chi_bits, chi_frac_bits=p.chi_frac_bits,
                          max_pulses=p.max_pulses, backend=self.ctx.backend)

    def _serial(self, arr, counts, per_row):
        """Row-by-row write: one row step per row with pulses (``serial_write`` op).

        ``per_row`` is max_j |counts[i, j]| (from the χ kernel).
        """
        total = arr.program(counts)
        self.hw.serial_write(arr.layer, int(np.count_nonzero(per_row)), arr.role, "update",
                             pulses=total, max_pulses=int(per_row.max()),
                             row_slots=total, col_slots=0)

    def stats(self):
        return {"pulses": {k: a.pulses for k, a in self.arrays.items()}}

    def state(self):
        return {"backends": self.backends, "arrays": self.arrays, "chi": self.chi,
                "accumulated": self.accumulated, "written": self.written}

    def load_state(self, state):
        for k in ("backends", "arrays", "chi", "accumulated", "written"):
            setattr(self, k, state[k])
        for a in self.arrays.values():
            a.attach(self.ctx)

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "ctx"}
