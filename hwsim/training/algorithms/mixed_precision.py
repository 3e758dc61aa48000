"""Mixed precision: a digital accumulator χ and sparse device writes (PHYSICS.md §4).

Nandakumar et al., Front. Neurosci. 14:406 (2020): the gradient is accumulated in
digital, ``χ ← χ − η d xᵀ`` per sample (O(MN) multiply-adds), and once per mini-batch
every element with ``|χ| ≥ ε`` is written to the array with ``n = trunc(χ/ε)``
pulses, ``χ ← χ − n·ε``.  The forward/backward MVMs run on the array W.  χ is a
fixed-point word of ``chi_bits`` bits with LSB ``ε/2^chi_frac_bits`` (saturating;
``chi_bits: 0`` keeps it in float64).  The writes are a row-by-row program-and-verify
free pulse write (``serial_write`` op, NeuroSim style) or one parallel train
(``write: parallel``).
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param, section
from hwsim.training.algorithms.analog import AnalogArray, AnalogWeights
from hwsim.training.algorithms.base import Algorithm, AnalogParams

_NAND = "Nandakumar et al., Front. Neurosci. 14:406 (2020)"


@section("mixed-precision", "Digital accumulator χ with threshold writes of trunc(χ/ε) pulses")
class MixedPrecisionParams(AnalogParams):
    chi_bits: int = param(32, lo=0, hi=64, cite=_NAND,
                          desc="word width of χ in bits (0 = float64, no quantization)")
    chi_frac_bits: int = param(8, lo=0, hi=32,
                               desc="fractional bits of χ below ε (LSB = ε/2^chi_frac_bits)")
    max_pulses: int = param(31, lo=1, desc="most pulses one device gets per write")
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
        arr = AnalogArray(self.ctx, name, "W", (out_features, in_features), init_w=init_w / a)
        self.arrays[name] = arr
        shape = (out_features, in_features)
        self.chi[name] = np.zeros(shape)
        self.accumulated[name] = np.zeros(shape)
        self.written[name] = np.zeros(shape)
        self.backends[name] = AnalogWeights([(arr, 1.0)], scale=a)
        return self.backends[name]

    def _quantize(self, chi, eps):
        """χ on the fixed-point grid of chi_bits (saturating)."""
        p = self.params
        if p.chi_bits == 0:
            return chi
        lsb = eps / (1 << p.chi_frac_bits)
        top = (2.0 ** (p.chi_bits - 1) - 1) * lsb
        return np.clip(np.round(chi / lsb), -top / lsb, top / lsb) * lsb

    def update(self, network, batch_size):
        for layer in network.analog_layers():
            name = layer.name
            arr, x, d = self.arrays[name], layer.last_input, layer.last_delta
            m, n = arr.shape
            delta = -(self.lr / self.params.weight_scale) * (d.T @ x)
            eps = arr.granularity
            chi = self._quantize(self.chi[name] + delta, eps)
            self.accumulated[name] += chi - self.chi[name]      # what χ actually received
            self.hw.digital("mac", len(x) * m * n, layer=name, phase="update")
            counts = np.clip(np.trunc(chi / eps), -self.params.max_pulses,
                             self.params.max_pulses).astype(np.int64)
            self.hw.accumulate(name, m * n, "H", "update", compares=m * n,
                               writes=int(np.count_nonzero(counts)))
            chi -= counts * eps
            self.written[name] += counts * eps
            self.chi[name] = chi
            if counts.any():
                if self.params.write == "parallel":
                    arr.apply_pulses(counts, phase="update")
                else:
                    self._serial(arr, counts)
            arr.end_of_batch()

    def _serial(self, arr, counts):
        """Row-by-row write: one row step per row with pulses (``serial_write`` op)."""
        from hwsim.physics.update import apply_pulses
        total = apply_pulses(arr.array, counts, arr.rng("write"), self.ctx.backend,
                             lumped_noise_threshold=arr.update_cfg.lumped_noise_threshold)
        arr.pulses += total
        arr.note_write()
        per_row = np.abs(counts).max(axis=1)
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
