"""Declared parameters of the MVM periphery and of the PCM device pair (layer 1).

:class:`MVMConfig` is one direction (forward or backward) of a crossbar read through
its periphery, PHYSICS.md §3: noise management → DAC → input noise → ``y = W x`` with
weight read noise and IR drop → output noise → ADC → rescale, with bound management.
Defaults are those of the RPU periphery model (Gokmen & Vlasov, Front. Neurosci.
10:333, 2016; Rasch et al., Nat. Commun. 15:7133, 2024).  All analog quantities are
normalized: inputs in units of the full-scale read voltage, weights in units of the
conductance range, outputs in the units of ``W x``.

:class:`PCMConfig` is the unipolar phase-change-memory pair ``W = G⁺ − G⁻`` of
PHYSICS.md §1 (Nandakumar et al., Front. Neurosci. 14:406, 2020, "Mixed-precision deep
learning based on computational memory", PCM model and refresh).
"""
from __future__ import annotations

from hwsim.config.blocks import ADCParams, DACParams
from hwsim.config.params import check_fields, param, section, spec_of
from hwsim.errors import ConfigError

_RPU = "Gokmen & Vlasov 2016; Rasch et al. 2024 (PHYSICS.md §3)"
_TXSIM = "Roy et al., TVLSI 2021 (TxSim)"
_NAND = "Nandakumar et al. 2020 (PHYSICS.md §1, PCM)"
_AIHWKIT_IO = ("IBM aihwkit 1.1.0, IOParameters.max_bm_factor / max_bm_res (defaults 1000 / "
               "0.25; rpucuda forwardVector: stop once the reduction exceeds either limit)")
# The converter resolutions are declared once, by the DAC and ADC banks; an MVM direction
# takes them from the periphery (TileConfig.mvm_config) and shares their range.
_DAC_BITS, _ADC_BITS = spec_of(DACParams, "bits"), spec_of(ADCParams, "bits")


@section("mvm", "One direction of a crossbar MVM through DAC, array and ADC")
class MVMConfig:
    is_perfect: bool = param(False, desc="ideal read: y = W x exactly (oracle; periphery ignored)")
    noise_management: str = param("abs_max", choices=("none", "abs_max"), cite=_RPU,
                                  desc="input scaling before the DAC: abs_max divides each sample "
                                       "by max|x| and multiplies the output back")
    bound_management: str = param("iterative", choices=("none", "iterative"),
                                  cite=_RPU + "; on in both directions (backward too) is hwsim's "
                                  "default (issue 16: aihwkit's build_config differs)",
                                  desc="iterative: a sample whose ADC saturated is read again "
                                       "with its input halved (each repeat is counted)")
    max_bm_repeats: int = param(10, lo=0, hi=60, cite=_RPU,
                                desc="most repeats of one sample under bound management")
    max_bm_factor: int = param(0, lo=0, cite=_AIHWKIT_IO,
                               desc="factor limit: no repeat after a read whose input reduction "
                                    "2^k exceeded this (0 = no limit; aihwkit: 1000)")
    max_bm_res: float = param(0.0, lo=0, cite=_AIHWKIT_IO,
                              desc="resolution limit: no repeat after a read whose reduction 2^k "
                                   "exceeded max_bm_res·(2^inp_res_bits − 2) (0 = no limit; "
                                   "aihwkit: 0.25)")
    inp_bound: float = param(1.0, lo=0, lo_open=True, cite=_RPU,
                             desc="DAC range ±inp_bound (normalized read voltage)")
    inp_res_bits: int | None = param(7, lo=_DAC_BITS.lo, hi=_DAC_BITS.hi, cite=_RPU,
                                     desc="DAC resolution in bits (2^bits−1 symmetric levels); "
                                          "null = not quantized; set from periphery.dac.bits")
    inp_noise: float = param(0.0, lo=0, cite=_RPU,
                             desc="std of Gaussian noise added to every DAC output")
    w_noise: float = param(0.0, lo=0, cite=_RPU,
                           desc="std of the weight read noise (weight units), per MVM")
    w_noise_type: str = param("additive_constant", choices=("additive_constant", "relative"),
                              desc="additive_constant: w + σξ; relative: w + σ|w|ξ, fresh ξ "
                                   "per device and MVM")
    out_noise: float = param(0.06, lo=0, cite=_RPU,
                             desc="std of Gaussian noise added to every output before the ADC")
    out_bound: float = param(12.0, lo=0, lo_open=True, cite=_RPU,
                             desc="ADC range ±out_bound (units of W x)")
    out_res_bits: int | None = param(9, lo=_ADC_BITS.lo, hi=_ADC_BITS.hi, cite=_RPU,
                                     desc="ADC resolution in bits (2^bits−1 symmetric levels); "
                                          "null = not quantized; set from periphery.adc.bits")
    ir_drop: float = param(0.0, lo=0, cite=_TXSIM,
                           desc="IR-drop strength r_wire/R_device: wire segment resistance over "
                                "the resistance of a device at |w| = 1 (0 = off)")
    ir_drop_tolerance: float = param(1e-3, lo=0,
                                     desc="recompute the effective matrix W_eff when any weight "
                                          "moved by more than this (weight units)")
    ir_drop_every: int = param(100, lo=1,
                               desc="recompute W_eff at least every this many weight updates")
    omega: float | None = param(None, lo=0, lo_open=True, hi=1.0,
                                desc="weight scaling ω: map max|W| to ω of the conductance range "
                                     "and undo it digitally (null = off)")

    def __post_init__(self):
        # the declarations above, checked for configs built in Python too (ConfigError)
        for name in ("inp_res_bits", "out_res_bits"):
            bits = getattr(self, name)
            if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int)):
                raise ConfigError(f"expected an integer or None, got {bits!r}", key=f"mvm.{name}")
        check_fields(self, "mvm")

    def bm_repeat_limit(self) -> int:
        """Most bound-management repeats of one sample: ``max_bm_repeats`` halvings, and
        aihwkit's limits (IOParameters, rpucuda ``forwardVector``): after a read with input
        reduction r = 2^k the loop stops when r > max_bm_factor or r > max_bm_res/inp_res,
        so repeat j (reduction 2^j) runs only if 2^(j−1) is within both.  aihwkit's
        inp_res is the DAC step over the full range 2·inp_bound, 1/(2^bits − 2) for
        hwsim's ``inp_res_bits`` (7 bits: 1/126, aihwkit's default); with the defaults
        1000 and 0.25 the limits are 10 and 5 repeats (2^4 = 16 ≤ 31.5 < 32)."""
        limits = [self.max_bm_repeats]
        if self.max_bm_factor > 0:
            limits.append(_repeats_within(float(self.max_bm_factor)))
        if self.max_bm_res > 0 and self.inp_res_bits is not None:
            limits.append(_repeats_within(self.max_bm_res * (2 ** self.inp_res_bits - 2)))
        return min(limits)


def _repeats_within(limit: float) -> int:
    """#{j ≥ 1 : 2^(j−1) ≤ limit}: the repeats a reduction limit allows."""
    j = 0
    while 2.0 ** j <= limit and j < 64:
        j += 1
    return j


@section("pcm", "Unipolar PCM pair W = G⁺ − G⁻ (potentiation only, refresh, drift, read noise)")
class PCMConfig:
    g_max: float = param("25 uS", unit="S", lo=0, lo_open=True, cite=_NAND,
                         desc="largest device conductance g_max")
    # ExpStep-like potentiation on the model coordinate w ∈ [0, w_span], w = w_span·g/g_max
    w_span: float = param(2.0, lo=0, lo_open=True, cite=_NAND,
                          desc="range of the step-model coordinate w ∈ [0, w_span]")
    dw_min: float = param(0.01, lo=0, lo_open=True, cite=_NAND,
                          desc="nominal step Δ⁺ of one SET pulse (step-model units)")
    exp_A_up: float = param(-27.235, cite=_NAND, desc="ExpStep amplitude A_up")
    exp_gamma_up: float = param(2.5, cite=_NAND, desc="ExpStep exponent γ_up")
    exp_a: float = param(-1.0, cite=_NAND, desc="ExpStep z-scale a")
    exp_b: float = param(0.0, cite=_NAND, desc="ExpStep z-offset b")
    dw_min_std: float = param(0.6, lo=0, cite=_NAND,
                              desc="cycle-to-cycle multiplicative step noise σ")
    dw_min_std_add: float = param(0.042, lo=0, cite=_NAND,
                                  desc="additive per-pulse noise, in units of Δ⁺")
    dw_min_std_slope: float = param(0.108, lo=0, cite=_NAND,
                                    desc="per-pulse noise growing with w, units of Δ⁺ per w")
    refresh_upper: float = param(0.75, lo=0, hi=1, cite=_NAND,
                                 desc="refresh when the larger device exceeds this fraction of "
                                      "g_max ...")
    refresh_lower: float = param(0.25, lo=0, hi=1, cite=_NAND,
                                 desc="... and the smaller exceeds this fraction")
    prog_noise_scale: float = param(1.0, lo=0, cite=_NAND,
                                    desc="multiplier of the programming-noise polynomial σ_P(ĝ)")
    prog_noise_coeffs: tuple[float, ...] = param(
        (0.26348, 1.9650, -1.1731), cite=_NAND,
        desc="σ_P = (g_max/25 µS)·(c0 + c1 ĝ + c2 ĝ²) µS, ĝ = g/g_max")
    drift: bool = param(True, desc="conductance drift g(t) = g_P (t/t0)^−ν")
    t0: float = param("20 s", unit="s", lo=0, lo_open=True, hi=1e9, cite=_NAND,
                      why="a drift reference over 30 years (10⁹ s)",
                      desc="drift reference time t0 after programming")
    read_noise: bool = param(True, desc="1/f read noise on every read")
    t_read: float = param("250 ns", unit="s", lo=0, lo_open=True, cite=_NAND,
                          desc="read duration t_r of the read-noise model")
    read_noise_max: float = param(0.2, lo=0, cite=_NAND,
                                  desc="cap of Q_s = min(0.0088/ĝ^0.65, cap)")

    def __post_init__(self):
        check_fields(self, "pcm")
        if not self.refresh_lower <= self.refresh_upper:
            raise ConfigError("pcm.refresh_lower must not exceed pcm.refresh_upper")
        if len(self.prog_noise_coeffs) != 3:
            raise ConfigError("pcm.prog_noise_coeffs must have 3 coefficients (c0, c1, c2)")
