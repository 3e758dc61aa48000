"""Unipolar phase-change-memory pair per weight: W = G⁺ − G⁻ (PHYSICS.md §1, PCM).

Numbers from Nandakumar et al., "Mixed-precision deep learning based on computational
memory", Front. Neurosci. 14:406 (2020) — PCM device model and refresh:

* State: normalized conductances ĝ± = g±/g_max ∈ [0, 1], g_max = 25 µS.  A weight
  reads as ``W = ĝ⁺ − ĝ⁻`` (weight units, [−1, 1]); :meth:`PCMArray.conductances`
  gives siemens.
* Potentiation only (SET pulses; each side moves up).  ExpStep-like step on the
  model coordinate w = w_span·ĝ, w ∈ [0, 2]::

      z  = 2a·w/w_span + b                          (a = −1, b = 0)
      Δw = Δ⁺·max(0, 1 − A_up e^{γ z})·(1 + σ ξ₁) + Δ⁺(σ_add + σ_slope·w) ξ₂
      w ← clip(w + Δw, 0, w_span)

  Δ⁺ = dw_min 0.01, A_up −27.235, γ 2.5, σ 0.6, σ_add 0.042, σ_slope 0.108.  Pulses
  are applied one at a time (the step depends on the state), vectorized over devices.
* Refresh: when the larger of ĝ⁺, ĝ⁻ exceeds 0.75 and the smaller exceeds 0.25 (both
  strict), RESET both to 0 and re-program the difference onto one side.
* Programming noise of a target programming (the refresh re-program):
  ``σ_P = (g_max/25 µS)(0.26348 + 1.9650 ĝ − 1.1731 ĝ²) µS``.  (Single SET pulses
  carry their own c2c noise above and get no σ_P.)
* Drift: ``g(t) = g_P (t/t₀)^{−ν}``, t₀ = 20 s, t counted from the device's last
  programming; ``g_P`` is the value at t₀ (no drift before t₀).  Per device
  ``ν ~ N(μ_ν, σ_ν²)``, ``μ_ν = clip(−0.0155 ln ĝ + 0.0244, 0.049, 0.1)``,
  ``σ_ν = clip(−0.0125 ln ĝ − 0.0059, 0.008, 0.045)``, drawn at programming from the
  programmed ĝ and clipped at ν ≥ 0.
* Read noise: ``g + |g|·Q_s·sqrt(ln((t + t_r)/(2 t_r)))·ξ``,
  ``Q_s = min(0.0088/ĝ^{0.65}, 0.2)``, t_r = 250 ns (log argument clipped at ≥ 1).

Every reading is clipped to [0, g_max]: a device never leaves its physical range.
"""
from __future__ import annotations

import numpy as np

_G_FLOOR = 1e-6     # ĝ floor inside ln() and powers (an empty device)


def _nu_stats(g_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the drift exponent ν for programmed ĝ (Nandakumar et al. 2020)."""
    lg = np.log(np.maximum(g_hat, _G_FLOOR))
    mean = np.clip(-0.0155 * lg + 0.0244, 0.049, 0.1)
    std = np.clip(-0.0125 * lg - 0.0059, 0.008, 0.045)
    return mean, std


def draw_nu(g_hat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One drift exponent per device, ν ~ N(μ_ν(ĝ), σ_ν(ĝ)²), ν ≥ 0."""
    mean, std = _nu_stats(g_hat)
    return np.maximum(mean + std * rng.standard_normal(np.shape(g_hat)), 0.0)


def prog_noise_std(g_hat: np.ndarray, cfg) -> np.ndarray:
    """σ_P / g_max (normalized) = (c0 + c1 ĝ + c2 ĝ²) µS / 25 µS."""
    c0, c1, c2 = cfg.prog_noise_coeffs
    return cfg.prog_noise_scale * (c0 + c1 * g_hat + c2 * g_hat * g_hat) / 25.0


def read_noise_qs(g_hat: np.ndarray, cfg) -> np.ndarray:
    """Q_s = min(0.0088 / ĝ^0.65, read_noise_max)."""
    return np.minimum(0.0088 / np.maximum(g_hat, _G_FLOOR) ** 0.65, cfg.read_noise_max)


def exp_step(w: np.ndarray, cfg, rng: np.random.Generator) -> np.ndarray:
    """One SET pulse on every device of ``w`` (model coordinate); returns the new w."""
    z = 2.0 * cfg.exp_a * w / cfg.w_span + cfg.exp_b
    mean = cfg.dw_min * np.maximum(0.0, 1.0 - cfg.exp_A_up * np.exp(cfg.exp_gamma_up * z))
    xi = rng.standard_normal((2,) + w.shape)
    dw = mean * (1.0 + cfg.dw_min_std * xi[0])
    dw += cfg.dw_min * (cfg.dw_min_std_add + cfg.dw_min_std_slope * w) * xi[1]
    return np.clip(w + dw, 0.0, cfg.w_span)


def _counts(n, shape, name) -> np.ndarray:
    arr = np.asarray(n)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array of pulse counts, got {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be ≥ 0 (PCM devices are only potentiated)")
    return arr.astype(np.int64)


class PCMArray:
    """An (M, N) array of PCM pairs: state, programming, refresh, drift and read.

    Device arrays have a leading axis of 2: index 0 is G⁺, index 1 is G⁻.
    """

    def __init__(self, cfg, g_prog, nu, t_prog, now: float = 0.0):
        self.cfg = cfg
        self.g_prog = g_prog          # (2, M, N) ĝ_P at t₀ after the last programming
        self.nu = nu                  # (2, M, N) drift exponents
        self.t_prog = t_prog          # (2, M, N) time of the last programming [s]
        self.now = float(now)         # array clock [s]
        self.events = np.zeros(g_prog.shape, dtype=np.int64)
        self.refreshed_weights = 0

    # --- construction -------------------------------------------------------------
    @classmethod
    def create(cls, cfg, shape, rng: np.random.Generator) -> "PCMArray":
        """All devices RESET (ĝ = 0) at t = 0."""
        m, n = (int(s) for s in shape)
        if m <= 0 or n <= 0:
            raise ValueError(f"PCM array shape must be positive, got {shape}")
        g = np.zeros((2, m, n))
        return cls(cfg, g, draw_nu(g, rng), np.zeros_like(g))

    @classmethod
    def from_conductances(cls, cfg, g_pos, g_neg, rng, now: float = 0.0) -> "PCMArray":
        """Devices already programmed (normalized ĝ±, no programming noise) at ``now``."""
        g = np.stack([np.asarray(g_pos, float), np.asarray(g_neg, float)])
        if g.ndim != 3 or g[0].shape != g[1].shape:
            raise ValueError("g_pos and g_neg must be 2-D arrays of one shape")
        if not np.all(np.isfinite(g)) or np.any(g < 0) or np.any(g > 1):
            raise ValueError("normalized conductances must lie in [0, 1]")
        return cls(cfg, g.copy(), draw_nu(g, rng), np.full_like(g, float(now)), now)

    @property
    def shape(self) -> tuple[int, int]:
        return self.g_prog.shape[1:]

    @property
    def programming_events(self) -> np.ndarray:
        """(2, M, N) programming events per device (SET pulses, RESETs, re-programs)."""
        return self.events

    # --- time ----------------------------------------------------------------------
    def _check_time(self, t) -> float:
        t = self.now if t is None else float(t)
        if not np.isfinite(t) or t < self.now:
            raise ValueError(f"time must be finite and ≥ the array clock {self.now} s, got {t}")
        return t

    def _drift_factor(self, t: float, sel=Ellipsis) -> np.ndarray:
        if not self.cfg.drift:
            return np.ones_like(self.g_prog[sel])
        elapsed = np.maximum(t - self.t_prog[sel], self.cfg.t0)
        return (elapsed / self.cfg.t0) ** (-self.nu[sel])

    def drift_to(self, t_seconds: float) -> np.ndarray:
        """Advance the array clock to ``t_seconds``; return the drifted weights (no read noise)."""
        self.now = self._check_time(t_seconds)
        return self.weights()

    # --- reading -------------------------------------------------------------------
    def conductance_hat(self, t=None, rng=None) -> np.ndarray:
        """(2, M, N) normalized conductances at time ``t``: drift, and read noise if ``rng``."""
        t = self._check_time(t)
        g = self.g_prog * self._drift_factor(t)
        if rng is not None and self.cfg.read_noise:
            t_r = self.cfg.t_read
            elapsed = np.maximum(t - self.t_prog, 0.0)
            spread = np.sqrt(np.maximum(np.log((elapsed + t_r) / (2.0 * t_r)), 0.0))
            g = g + np.abs(g) * read_noise_qs(g, self.cfg) * spread * rng.standard_normal(g.shape)
        return np.clip(g, 0.0, 1.0)

    def conductances(self, t=None, rng=None) -> np.ndarray:
        """(2, M, N) conductances in siemens (G⁺, G⁻)."""
        return self.conductance_hat(t, rng) * self.cfg.g_max

    def weights(self, t=None, rng=None) -> np.ndarray:
        """W = ĝ⁺ − ĝ⁻ at time ``t`` (default: the array clock), read noise when ``rng``."""
        g = self.conductance_hat(t, rng)
        return g[0] - g[1]

    # --- writing -------------------------------------------------------------------
    def _settle(self, sel) -> None:
        """Fold the drift accumulated until ``now`` into the state of devices ``sel``."""
        self.g_prog[sel] = self.g_prog[sel] * self._drift_factor(self.now, sel)

    def program_pulses(self, n_pos, n_neg, rng: np.random.Generator) -> int:
        """Apply n_pos SET pulses to every G⁺ and n_neg to every G⁻; returns #pulses."""
        shape = self.shape
        n = np.stack([_counts(n_pos, shape, "n_pos"), _counts(n_neg, shape, "n_neg")])
        touched = n > 0
        if not touched.any():
            return 0
        self._settle(touched)
        idx = np.flatnonzero(touched)
        counts = n.ravel()[idx]
        w = self.g_prog.ravel()[idx] * self.cfg.w_span
        for k in range(int(counts.max())):
            live = counts > k
            w[live] = exp_step(w[live], self.cfg, rng)
        g_flat = self.g_prog.reshape(-1)
        g_flat[idx] = w / self.cfg.w_span
        self.t_prog.reshape(-1)[idx] = self.now
        self.nu.reshape(-1)[idx] = draw_nu(g_flat[idx], rng)
        self.events.reshape(-1)[idx] += counts
        return int(counts.sum())

    def needs_refresh(self) -> np.ndarray:
        """(M, N) bool: larger side > refresh_upper and smaller side > refresh_lower."""
        g = self.conductance_hat()
        hi, lo = np.maximum(g[0], g[1]), np.minimum(g[0], g[1])
        return (hi > self.cfg.refresh_upper) & (lo > self.cfg.refresh_lower)

    def refresh(self, rng: np.random.Generator) -> int:
        """RESET both devices of every weight that needs it, re-program the difference.

        Returns the number of programming events (2 RESETs + 1 re-program per weight,
        the re-program skipped when the difference is 0).
        """
        mask = self.needs_refresh()
        if not mask.any():
            return 0
        g = self.conductance_hat()
        diff = (g[0] - g[1])[mask]
        target = np.abs(diff)
        noisy = target + prog_noise_std(target, self.cfg) * rng.standard_normal(target.shape)
        new = np.clip(noisy, 0.0, 1.0)
        reprog = target > 0
        on_side = (reprog & (diff > 0), reprog & (diff < 0))
        for k in (0, 1):
            gk = np.where(on_side[k], new, 0.0)
            self.g_prog[k][mask] = gk
            self.t_prog[k][mask] = self.now
            self.nu[k][mask] = draw_nu(gk, rng)
            self.events[k][mask] += 1 + on_side[k]
        self.refreshed_weights += int(mask.sum())
        return int(2 * mask.sum() + np.count_nonzero(reprog))
