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

Stochastic writes (IBM aihwkit 1.1.0 ``MixedPrecisionCompound``: ``n_x_bins``,
``n_d_bins``, ``stoc_round_x/d``, ``granularity``): before the outer product each
sample's x (and d) is quantized to ``n_bins`` symmetric bins of width
``w = max|x|/⌊n_bins/2⌋``, ``q = clip(round(x/w + u), ±⌊n_bins/2⌋)·w`` with
``u ~ U[−½, ½)`` (stochastic rounding: E[q] = x inside the range) or u = 0, round
half away from zero (aihwkit ``doDirectVectorUpdate``); ``n_bins: 0`` leaves it
unquantized (the default, as aihwkit's).  ``transfer_steps`` k sets the transfer
granularity ε_t = k·ε (aihwkit ``granularity``, 0 there = the device's ε): χ is
thresholded at ε_t and each count writes k pulses.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from hwsim.config.params import param, section
from hwsim.config.yamlio import file_of, line_of
from hwsim.errors import ConfigError
from hwsim.training.algorithms.analog import AnalogWeights
from hwsim.training.algorithms.base import Algorithm, AnalogParams
from hwsim.training.digital_accumulator import chi_update

_NAND = "Nandakumar et al., Front. Neurosci. 14:406 (2020)"
_MPC = "IBM aihwkit 1.1.0 MixedPrecisionCompound (defaults: bins 0, stochastic rounding on)"


def quantize_bins(v: np.ndarray, n_bins: int, rng: np.random.Generator | None) -> np.ndarray:
    """Each row of ``v`` on ``n_bins`` symmetric bins of width max|row|/⌊n_bins/2⌋ (a
    zero row keeps width 1), rounded half away from zero after adding ``u − ½``,
    u ~ U[0, 1) from ``rng`` (stochastic rounding; ``rng`` None: nearest)."""
    half = float(n_bins // 2)
    amax = np.abs(v).max(axis=1, keepdims=True) if v.shape[1] else np.zeros((len(v), 1))
    width = amax / half
    width[width == 0] = 1.0
    t = v / width
    if rng is not None:
        t = t + (rng.random(v.shape) - 0.5)
    q = np.sign(t) * np.floor(np.abs(t) + 0.5)
    return np.clip(q, -half, half) * width


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
    n_x_bins: int = param(0, lo=0, cite=_MPC,
                          desc="bins of the per-sample quantization of x before χ += −η d xᵀ "
                               "(0 = unquantized)")
    n_d_bins: int = param(0, lo=0, cite=_MPC,
                          desc="bins of the per-sample quantization of d (0 = unquantized)")
    stoc_round_x: bool = param(True, cite=_MPC, desc="stochastic rounding of the quantized x")
    stoc_round_d: bool = param(True, cite=_MPC, desc="stochastic rounding of the quantized d")
    transfer_steps: int = param(1, lo=1, cite=_MPC,
                                desc="transfer granularity ε_t = k·ε in device steps: χ is "
                                     "thresholded at ε_t, each count writes k pulses")

    def __post_build__(self, data, path, ctx):
        super().__post_build__(data, path, ctx)
        for key in ("n_x_bins", "n_d_bins"):
            if getattr(self, key) == 1:
                raise ConfigError(f"{key} 1 has no bin on either side of zero (⌊1/2⌋ = 0): use "
                                  f"0 (unquantized) or ≥ 2", file=file_of(data),
                                  line=line_of(data, key), key=f"{path}.{key}" if path else key)


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
            x, d = self._quantized(name, x, d)
            res = self._chi_update(name, arr, x, d)
            self.hw.digital("mac", len(x) * m * n, layer=name, phase="update")
            self.hw.accumulate(name, m * n, "H", "update", compares=m * n, writes=res.writes)
            if res.writes:
                if p.write == "parallel":
                    arr.apply_pulses(res.counts, phase="update")
                else:
                    self._serial(arr, res.counts, res.row_max)
            arr.end_of_batch()

    def _quantized(self, name, x, d):
        """x and d on their bins (``n_x_bins``/``n_d_bins``); each quantized element is
        a multiply by 1/w and one by w (and an add of the rounding offset)."""
        p, out = self.params, []
        for v, bins, sto, role in ((x, p.n_x_bins, p.stoc_round_x, "x"),
                                   (d, p.n_d_bins, p.stoc_round_d, "d")):
            if bins:
                n = int(v.shape[0]) * int(v.shape[1])
                self.hw.digital("mult", 2 * n, layer=name, phase="update")
                if sto:
                    self.hw.digital("add", n, layer=name, phase="update")
                if not self.symbolic:
                    rng = self.ctx.rng(f"{name}/W/round_{role}") if sto else None
                    v = quantize_bins(np.asarray(v, dtype=np.float64), bins, rng)
            out.append(v)
        return out

    def _chi_update(self, name, arr, x, d):
        """χ += −η/a·dᵀx and its threshold writes: ``writes``, ``counts``, ``row_max``."""
        if self.symbolic:
            counts = self.ctx.model.threshold(*arr.shape)
            return SimpleNamespace(writes=counts.writes, counts=counts, row_max=counts.row_max())
        p = self.params
        res = chi_update(self.chi[name], d.T @ x, -(self.lr / p.weight_scale),
                         self.accumulated[name], self.written[name],
                         arr.granularity * p.transfer_steps,
                         chi_bits=p.chi_bits, chi_frac_bits=p.chi_frac_bits,
                         max_pulses=p.max_pulses, backend=self.ctx.backend)
        if p.transfer_steps > 1:           # each count of ε_t = k·ε is k device pulses
            res = res._replace(counts=res.counts * p.transfer_steps,
                               row_max=res.row_max * p.transfer_steps)
        return res

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
