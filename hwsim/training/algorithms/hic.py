"""HIC — hybrid in-memory computing with binary and multi-level PCM (PHYSICS.md §4).

Joshi, He, Seo & Rajendran, "Hybrid in-memory computing architecture for the
training of deep neural networks", ISCAS 2021 (arXiv:2102.05271).  Every weight is

    W = s_b·B + M,     B = (ĝ_B⁺ − ĝ_B⁻)/g_set ∈ {−1, +1},     M = m_range·(ĝ_M⁺ − ĝ_M⁻)

with B on a *binary* PCM pair (one device SET to ĝ = g_set, the other RESET) and M on
a *multi-level* PCM pair driven by SET pulses (:class:`hwsim.physics.pcm.PCMArray`,
Nandakumar et al., Front. Neurosci. 14:406, 2020: ExpStep potentiation, refresh,
programming noise, drift ``g(t) = g_P (t/t₀)^{−ν}``, read noise).  The forward and
backward MVMs run on both arrays through the tile periphery and are combined
digitally: ``y = s_b·(B x) + M x``.

Update of one mini-batch (one layer), all integer arithmetic exact:

1. ``Δ = −η Σ_b d_b x_bᵀ`` in digital (B·M·N MACs), quantized to the accumulator LSB
   ``q = ε_M / 2^(bits−1)`` (stochastic or nearest rounding): ``δ = round(Δ/q)``.
2. Low-precision accumulator χ (signed, ``acc_bits`` bits): ``s = χ + δ``; overflow
   ``n = sign(s)·⌊|s| / 2^(bits−1)⌋`` clipped to ±max_pulses; ``χ ← s − n·2^(bits−1)``
   saturated to ±(2^(bits−1) − 1) (the part cut off is counted as ``lost``), so
   ``χ_old + δ = n·2^(bits−1) + χ_new + lost`` always.
3. The overflow programs M: n > 0 → n SET pulses on ĝ_M⁺, n < 0 → |n| on ĝ_M⁻
   (serial write, rows with pulses × max|n| pulse widths).
4. Carry into B: the programmed columns of M are read; where ``|M| > s_b`` with
   ``sign(M) ≠ B`` the weight has changed sign: ``B ← −B``, ``M ← M − 2 s_b·B_new``
   (both pairs RESET and re-programmed to target, with programming noise).
5. PCM refresh of M (Nandakumar et al. 2020 rule, :meth:`PCMArray.refresh`).

Ops issued: ``forward``/``backward`` on roles B and M (+ digital ``scale``/``add`` to
combine), ``digital mac`` (B·M·N), ``accumulate`` (M·N elements, M·N compares,
overflows as writes), ``serial_write`` on M (pulses), ``read_column`` on M (carry
check), ``serial_write`` on B and M per carry and on M per refresh (one pulse width per
row: a target programming is counted as one event per device).
:func:`program_target` writes the documented state arrays of ``PCMArray`` (g_prog,
t_prog, nu, events) directly; it mirrors the re-program of :meth:`PCMArray.refresh`.

ε_M is the weight change of one SET pulse at mid-range, ``m_range·Δĝ(ĝ = 0.5)``
(``m_granularity`` overrides it).  Stored bits per weight: 1 (B) +
log₂(2·m_range/ε_M + 1) (M levels) in PCM, ``acc_bits`` in SRAM during training only.
The PCM clock advances by ``batch_time`` per mini-batch; ``drift_report`` reads the
arrays at 1 s … 1 year after the end of training.  PCM endurance: 10⁶–10⁹ cycles
(Wong et al., Proc. IEEE 98:2201, 2010); a device's programming events (SET pulses,
RESETs, target programmings) are compared with ``endurance``.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.params import param, section
from hwsim.config.periphery import PCMConfig
from hwsim.errors import ConfigError
from hwsim.physics.pcm import PCMArray, draw_nu, prog_noise_std
from hwsim.physics.periphery import mvm
from hwsim.training.algorithms import tiles
from hwsim.training.algorithms.analog import mvm_meta
from hwsim.training.algorithms.base import Algorithm, NullHardware

_JOSHI = "Joshi et al., ISCAS 2021 (arXiv:2102.05271)"
_NAND_PCM = "Nandakumar et al., Front. Neurosci. 14:406 (2020), PCM model (configs/devices/pcm.yaml)"
_WONG = "Wong et al., Proc. IEEE 98:2201 (2010)"
DRIFT_TIMES = {"1 s": 1.0, "1 h": 3600.0, "1 day": 86400.0, "1 month": 30 * 86400.0,
               "1 year": 365 * 86400.0}


def accumulate_overflow(chi, delta, bits: int, max_pulses: int):
    """One accumulator step in integer units of the LSB; returns ``(chi, n, lost)``.

    ``chi + delta == n·2^(bits−1) + chi_new + lost`` exactly, |chi_new| < 2^(bits−1),
    |n| ≤ max_pulses.
    """
    full = 1 << (int(bits) - 1)
    s = np.asarray(chi, np.int64) + np.asarray(delta, np.int64)
    n = np.clip(np.sign(s) * (np.abs(s) // full), -max_pulses, max_pulses)
    r = s - n * full
    chi_new = np.clip(r, -(full - 1), full - 1)
    return chi_new, n, r - chi_new


def program_target(arr: PCMArray, mask, target, rng) -> int:
    """RESET both devices of the weights in ``mask`` and program ``target`` ∈ [−1, 1]
    (ĝ⁺ − ĝ⁻) onto one side with programming noise σ_P(ĝ) (Nandakumar et al. 2020).

    Returns the programming events (2 RESETs + 1 programming per nonzero target).
    """
    mask = np.asarray(mask, bool)
    if not mask.any():
        return 0
    t = np.clip(np.broadcast_to(np.asarray(target, float), mask.shape)[mask], -1.0, 1.0)
    mag = np.abs(t)
    new = np.clip(mag + prog_noise_std(mag, arr.cfg) * rng.standard_normal(mag.shape), 0.0, 1.0)
    for k, side in ((0, t > 0), (1, t < 0)):
        g = np.where(side, new, 0.0)
        arr.g_prog[k][mask] = g
        arr.t_prog[k][mask] = arr.now
        arr.nu[k][mask] = draw_nu(g, rng)
        arr.events[k][mask] += 1 + side
    return int(2 * mask.sum() + np.count_nonzero(t))


def set_step(cfg: PCMConfig, g_hat: float) -> float:
    """Mean Δĝ of one SET pulse at ĝ (the ExpStep of :mod:`hwsim.physics.pcm`)."""
    z = 2.0 * cfg.exp_a * g_hat + cfg.exp_b
    return cfg.dw_min * max(0.0, 1.0 - cfg.exp_A_up * np.exp(cfg.exp_gamma_up * z)) / cfg.w_span


@section("hic", "Hybrid PCM: W = s_b·B (binary pairs) + M (multi-level), low-precision accumulator")
class HICParams:
    acc_bits: int = param(8, lo=2, hi=32, cite=_JOSHI + " (low precision; 8 bits assumed)",
                          desc="bits of the signed low-precision accumulator χ (overflow = ε_M)")
    rounding: str = param("stochastic", choices=("stochastic", "nearest"), cite=_JOSHI,
                          desc="rounding of η·dᵀx to the accumulator LSB ε_M/2^(bits−1)")
    s_b: float = param(0.3, lo=0, lo_open=True, cite="hwsim's choice (half of m_range)", desc="weight of a binary pair (B = ±1)")
    m_range: float = param(0.6, lo=0, lo_open=True,
                           cite="hwsim's choice (the ±0.6 weight range of the device presets)",
                           desc="weight of a multi-level pair at ĝ⁺ − ĝ⁻ = 1")
    m_granularity: float | None = param(
        None, lo=1e-6, cite=_NAND_PCM,
        why="below 1e-6 M would hold over 10⁶ levels per unit of weight, four orders beyond "
            "the ≈200 SET steps of the PCM model (step 0.01 over a span of 2); at most m_range: "
            "one SET cannot move M past its whole range",
        desc="ε_M, weight change of one SET pulse on M (null = m_range × mean SET step at "
             "ĝ = 0.5); within [1e-6, m_range]")
    max_pulses: int = param(31, lo=1, cite="hwsim's choice, equal to the default bl_max",
                            desc="most SET pulses per M device per mini-batch")
    g_set: float = param(1.0, lo=0.01, hi=1.0, cite=_WONG,
                         why="PCM on/off ratios are 10²–10³: a SET state under 1 % of g_max is "
                             "within reach of a RESET device's conductance and B = ±1 is lost",
                         desc="normalized conductance of a SET binary device (ĝ of g_max)")
    batch_time: float = param("1 ms", unit="s", lo=0, cite="hwsim's choice (drift clock)",
                              desc="PCM clock advance per mini-batch")
    endurance: float = param(1e8, lo=1, cite=_WONG + ": 1e6–1e9",
                             desc="programming events a PCM device survives")
    pcm: PCMConfig = param(factory=PCMConfig, desc="PCM device model of the B and M arrays")

    def __post_init__(self):
        if self.m_granularity is not None and self.m_granularity > self.m_range:
            raise ConfigError(f"hic.m_granularity ({self.m_granularity}) must be at most hic."
                              f"m_range ({self.m_range}): one SET pulse cannot move M past its "
                              f"whole range")
        if not self.m_range > self.s_b:
            raise ConfigError(f"hic.m_range ({self.m_range}) must exceed hic.s_b ({self.s_b}): "
                              f"M must hold values beyond ±s_b to carry into B")


class HybridPCMWeights:
    """WeightBackend of one layer: MVMs on s_b·B + M through the tile periphery."""

    def __init__(self, algo, name: str, init_w: np.ndarray):
        p, ctx = algo.params, algo.ctx
        self.algo, self.name = algo, name
        self.out_features, self.in_features = init_w.shape
        if algo.symbolic:          # shapes only: reads and writes from the statistics model
            return
        self.fwd_cfg = ctx.accelerator.tile.mvm_config("forward")
        self.bwd_cfg = ctx.accelerator.tile.mvm_config("backward")
        self.b = PCMArray.create(p.pcm, init_w.shape, self.rng("B/init"))
        self.m = PCMArray.create(p.pcm, init_w.shape, self.rng("M/init"))
        self.sign = np.where(init_w >= 0, 1, -1).astype(np.int8)
        program_target(self.b, np.ones(init_w.shape, bool), self.sign * p.g_set, self.rng("B/write"))
        program_target(self.m, np.ones(init_w.shape, bool),
                       (init_w - p.s_b * self.sign) / p.m_range, self.rng("M/write"))
        self.chi = np.zeros(init_w.shape, np.int64)
        self.read_offset = 0.0            # drift_report reads at now + offset

    @property
    def ctx(self):
        """The algorithm's context (re-linked by the runner on resume)."""
        return self.algo.ctx

    def rng(self, use: str) -> np.random.Generator:
        return self.ctx.rng(f"{self.name}/{use}")

    def parts(self, rng_b=None, rng_m=None, offset: float = 0.0):
        """(s_b·B, M) read at ``now + offset`` (read noise when generators are given)."""
        p = self.algo.params
        return (self.b.weights(self.b.now + offset, rng_b) * (p.s_b / p.g_set),
                self.m.weights(self.m.now + offset, rng_m) * p.m_range)

    def weights(self) -> np.ndarray:
        wb, wm = self.parts()
        return wb + wm

    def _mvm(self, v, transposed):
        """Each array is read in conductance units (ĝ⁺ − ĝ⁻ ∈ [−1, 1]) through the periphery;
        the digital unit scales by s_b/g_set and m_range and adds the two outputs."""
        p = self.algo.params
        use = "backward" if transposed else "forward"
        hw, out = self.ctx.hw, 0.0
        for role, gain in (("B", p.s_b / p.g_set), ("M", p.m_range)):
            y, st = self._read(role, v, use, transposed)
            getattr(hw, use)(self.name, len(y) + st.bm_repeats, role, use, **mvm_meta(st))
            out = out + gain * y
        hw.digital("scale", 2 * out.size, layer=self.name, phase=use)
        hw.digital("add", out.size, layer=self.name, phase=use)
        return out

    def _read(self, role, v, use, transposed):
        """(y, MVMStats) of the array ``role`` (B or M) read at now + read_offset."""
        if self.algo.symbolic:
            return self.ctx.model.mvm(v, (self.out_features, self.in_features), transposed)
        arr = self.b if role == "B" else self.m
        cfg = self.bwd_cfg if transposed else self.fwd_cfg
        g = arr.weights(arr.now + self.read_offset, self.rng(f"{role}/read"))
        blocks = tiles.blocks_for(self.ctx, g.shape)
        if blocks is not None:      # a layer on several tiles: each its own periphery
            return tiles.tiled_mvm(blocks, lambda t: np.ascontiguousarray(g[blocks[t]]), v, cfg,
                                   self.rng(f"{role}/{use}"), transposed=transposed,
                                   backend=self.ctx.backend)
        return mvm(g, np.asarray(v), cfg, self.rng(f"{role}/{use}"), transposed=transposed,
                   backend=self.ctx.backend)

    def forward(self, x):
        return self._mvm(x, False)

    def backward(self, d):
        return self._mvm(d, True)


class HIC(Algorithm):
    NAME = "hic"
    Params = HICParams
    ROLES = ("B", "M")

    def __init__(self, params, training, context):
        super().__init__(params, training, context)
        p = params
        self.eps = p.m_granularity if p.m_granularity is not None \
            else p.m_range * set_step(p.pcm, 0.5)
        self.lsb = self.eps / (1 << (p.acc_bits - 1))
        self.counts = {"m_pulses": 0, "carries": 0, "refresh_events": 0, "lost_lsb": 0,
                       "overflows": 0, "batches": 0}
        self.epoch_events: list = []

    def make_backend(self, name, out_features, in_features, init_w):
        if not self.symbolic:
            init_w = np.asarray(init_w, float)
        self.backends[name] = HybridPCMWeights(self, name, init_w)
        return self.backends[name]

    def _quantize(self, delta, rng):
        v = delta / self.lsb
        if self.params.rounding == "nearest":
            return np.rint(v).astype(np.int64)
        return np.floor(v + rng.random(v.shape)).astype(np.int64)

    def update(self, network, batch_size):
        p, hw = self.params, self.hw
        for layer in network.analog_layers():
            be: HybridPCMWeights = self.backends[layer.name]
            x, d = layer.last_input, layer.last_delta
            name, rows, cols = layer.name, be.out_features, be.in_features
            hw.digital("mac", x.shape[0] * rows * cols, layer=name, phase="update")
            n = self._accumulate(be, x, d)
            n_over = n.writes if self.symbolic else int(np.count_nonzero(n))
            hw.accumulate(name, rows * cols, "H", "update", compares=rows * cols, writes=n_over)
            self.counts["overflows"] += n_over
            if n_over:
                self._program_m(be, n)
                self.counts["refresh_events"] += self._refresh(be)
            if not self.symbolic:
                for arr in (be.b, be.m):
                    arr.now += p.batch_time
        self.counts["batches"] += 1

    def _accumulate(self, be, x, d):
        """Δ = −η dᵀx into the accumulator; returns the overflow n (pulses per M device;
        in symbolic mode the model's threshold counts)."""
        if self.symbolic:
            return self.ctx.model.threshold(be.out_features, be.in_features)
        p = self.params
        delta = self._quantize(-self.lr * (d.T @ x), be.rng("acc/round"))
        be.chi, n, lost = accumulate_overflow(be.chi, delta, p.acc_bits, p.max_pulses)
        self.counts["lost_lsb"] += int(np.abs(lost).sum())
        return n

    def _program_m(self, be, n):
        hw, name = self.hw, be.name
        if self.symbolic:
            pulses, rows, top, touched = n.total, n.rows_written(), n.ppw, n
        else:
            touched = n != 0
            pulses = be.m.program_pulses(np.maximum(n, 0), np.maximum(-n, 0), be.rng("M/write"))
            rows, top = int(touched.any(axis=1).sum()), int(np.abs(n).max())
        self.counts["m_pulses"] += pulses
        hw.serial_write(name, rows, "M", "update", pulses=pulses, max_pulses=top)
        self.carry(be, touched)

    def carry(self, be, touched) -> int:
        """Read the programmed columns of M; flip B where the weight changed sign.

        Where ``|M| > s_b`` and ``sign(M) ≠ B``: ``B ← −B``, ``M ← M − 2 s_b·B_new``
        (W = s_b·B + M unchanged up to programming noise).  Returns the carries.
        In symbolic mode ``touched`` is the model's counts: their columns are read, and
        the model has no carries.
        """
        p, hw, name = self.params, self.hw, be.name
        if self.symbolic:
            k, first = touched.cols_written(), 0
        else:
            cols = np.flatnonzero(np.asarray(touched, bool).any(axis=0))
            k, first = cols.size, int(cols[0]) if cols.size else 0
        if k == 0:
            return 0
        hw.read_column(name, k, "M", "update", col=first)
        if self.symbolic:
            return 0
        m_val = be.m.weights(rng=be.rng("M/read")) * p.m_range
        carry = touched & (np.abs(m_val) > p.s_b) & (np.sign(m_val) != be.sign)
        if carry.any():
            new_sign = np.where(carry, -be.sign, be.sign).astype(np.int8)
            ev_b = program_target(be.b, carry, new_sign * p.g_set, be.rng("B/write"))
            ev_m = program_target(be.m, carry, (m_val - 2 * p.s_b * new_sign) / p.m_range,
                                  be.rng("M/write"))
            be.sign = new_sign
            rows = int(carry.any(axis=1).sum())
            hw.serial_write(name, rows, "B", "update", pulses=ev_b, max_pulses=1)
            hw.serial_write(name, rows, "M", "update", pulses=ev_m, max_pulses=1)
            self.counts["carries"] += int(carry.sum())
        return int(carry.sum())

    def _refresh(self, be) -> int:
        if self.symbolic:           # the model: no device needs a refresh
            return 0
        mask = be.m.needs_refresh()
        if not mask.any():
            return 0
        ev = be.m.refresh(be.rng("M/write"))
        self.hw.serial_write(be.name, int(mask.any(axis=1).sum()), "M", "update", pulses=ev,
                             max_pulses=1)
        return ev

    def end_epoch(self, epoch: int) -> None:
        self.epoch_events.append(self._max_events())

    def _max_events(self) -> int:
        return max((int(max(be.b.events.max(), be.m.events.max()))
                    for be in self.backends.values()), default=0)

    # ---- reports -----------------------------------------------------------------
    def stored_bits(self) -> dict:
        levels = 2.0 * self.params.m_range / self.eps + 1.0
        m_bits = float(np.log2(levels))
        return {"binary_pcm": 1.0, "multilevel_pcm": m_bits, "inference_total": 1.0 + m_bits,
                "accumulator_sram": float(self.params.acc_bits), "pcm_devices_per_weight": 4}

    def endurance(self) -> dict:
        ev = [np.concatenate([be.b.events.ravel(), be.m.events.ravel()])
              for be in self.backends.values()]
        ev = np.concatenate(ev) if ev else np.zeros(1, np.int64)
        per_epoch = np.diff([0] + self.epoch_events)
        worst = float(per_epoch.max()) if len(per_epoch) else float(ev.max())
        return {"limit": self.params.endurance, "max_events": int(ev.max()),
                "mean_events": float(ev.mean()),
                "fraction_over_limit": float(np.mean(ev > self.params.endurance)),
                "epochs_to_limit": self.params.endurance / worst if worst > 0 else float("inf")}

    def drift_report(self, network, dataset, times: dict | None = None) -> dict:
        """Test accuracy with the PCM read ``t`` after the end of training (drift, read noise)."""
        saved, self.ctx.hw = self.ctx.hw, NullHardware()
        out = {}
        try:
            for label, t in (times or DRIFT_TIMES).items():
                for be in self.backends.values():
                    be.read_offset = float(t)
                loss, acc = network.evaluate(dataset.test_x, dataset.test_y)
                out[label] = {"t_s": float(t), "loss": float(loss), "accuracy": float(acc)}
        finally:
            for be in self.backends.values():
                be.read_offset = 0.0
            self.ctx.hw = saved
        return out

    def stats(self) -> dict:
        return {**self.counts, "epsilon_m": float(self.eps), "acc_lsb": float(self.lsb),
                "stored_bits": self.stored_bits(), "endurance": self.endurance()}

    def state(self):
        return {"backends": self.backends, "counts": self.counts, "epochs": self.epoch_events}

    def load_state(self, state):
        self.backends, self.counts = state["backends"], state["counts"]
        self.epoch_events = state["epochs"]
