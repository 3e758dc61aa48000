"""State of one M×N crossbar array of resistive devices (PHYSICS.md §1).

Per-device values are drawn once, when the array is built (device-to-device spread,
Gokmen & Vlasov, Front. Neurosci. 10:333, 2016):

    b_max = w_max·max(1 + w_max_dtod ξ, 0.05)     b_min = w_min·max(1 + w_min_dtod ξ, 0.05)
    g = 1 + dw_min_dtod ξ       r = up_down_dtod ξ
    Δ⁺ = |g + min(up_down, 0) + r|·dw_min       Δ⁻ = |g − max(up_down, 0) − r|·dw_min

(the 0.05 floor keeps every bound on its nominal side, so b_min < 0 < b_max for bipolar
devices); the model's own per-device parameters come from its section
(:meth:`hwsim.devices.DeviceConfig.device_params`, e.g. slopes γ ← γ·max(1 + γ_dtod ξ,
0.05) for LinearStep and PowStep).  Non-idealities: reference offset r_ij = ref_mean +
ref_std ξ subtracted on read; write noise (visible w + write_noise_std·dw_min·ξ, redrawn when a device is
touched); decay w ← (w − b)(1 − 1/τ_life) + b and diffusion w += ν ξ per mini-batch;
stuck devices (zero step); an optional int64 pulse counter for endurance.
The draws happen in a fixed order whatever the knobs, so a seed always gives the same
array.  Precision (``run.precision``, issue 17): the draws are float64; the state the
pulses act on (w, bounds, steps, model parameters, kernel scalars and nodes) is then
rounded once to float32 (default, as aihwkit's tiles) or kept in float64 (reference
runs); reference offsets, write noise, decay and diffusion rates stay float64.
"""
from __future__ import annotations

import numpy as np

from hwsim.config.experiment import RunConfig
from hwsim.devices import DTOD_FLOOR as _FLOOR

#: run.precision (hwsim.config.experiment.RunConfig, declared there once) → NumPy dtype
PRECISIONS = {"float32": np.float32, "float64": np.float64}
DEFAULT_PRECISION = RunConfig.__dataclass_fields__["precision"].default
#: per-device state of the pulsed update, held in the array's precision
STATE = ("w", "b_max", "b_min", "dw_up", "dw_down", "p_up", "p_down")


class DeviceArray:
    """Weights ``w`` (C order, float32 or float64: ``precision``) and per-device parameters
    of one array."""

    def __init__(self, cfg, shape, rng: np.random.Generator, precision: str = DEFAULT_PRECISION):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {tuple(PRECISIONS)}, got {precision!r}")
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"array shape must be (rows, cols) with rows, cols ≥ 1, got {shape}")
        if not cfg.w_min < cfg.w_max or cfg.w_max <= 0:
            raise ValueError(f"device bounds need w_min < w_max and w_max > 0, got "
                             f"[{cfg.w_min}, {cfg.w_max}]")
        if not isinstance(rng, np.random.Generator):
            raise ValueError("rng must be a numpy.random.Generator")
        self.cfg = cfg
        self.shape = (int(shape[0]), int(shape[1]))
        self.model = cfg.model
        self.model_code = cfg.kernel        # KernelCode, None for a NumPy-only model
        xi = lambda: rng.standard_normal(self.shape)  # noqa: E731 - fixed draw order below
        g = 1.0 + cfg.dw_min_dtod * xi()
        r = cfg.up_down_dtod * xi()
        self.b_max = cfg.w_max * np.maximum(1.0 + cfg.w_max_dtod * xi(), _FLOOR)
        self.b_min = cfg.w_min * np.maximum(1.0 + cfg.w_min_dtod * xi(), _FLOOR)
        self.b_max = np.maximum(self.b_max, self.b_min + cfg.dw_min)
        self.dw_up = np.abs(g + min(cfg.up_down, 0.0) + r) * cfg.dw_min
        self.dw_down = np.abs(g - max(cfg.up_down, 0.0) - r) * cfg.dw_min
        self.reference = cfg.ref_mean + cfg.ref_std * xi()
        self.stuck = rng.random(self.shape) < cfg.stuck_fraction
        xi_model = xi()              # spread of the model slope (linear γ±, PowStep γ)
        self.p_up, self.p_down = cfg.device_params(self, xi_model)
        life = np.maximum(1.0 + cfg.lifetime_dtod * xi(), _FLOOR)
        self.tau_life = cfg.lifetime * life if cfg.lifetime > 0 else None
        diff = np.maximum(1.0 + cfg.diffusion_dtod * xi(), 0.0)
        self.diffusion_rate = cfg.diffusion * diff if cfg.diffusion > 0 else None
        self.dw_up[self.stuck] = 0.0
        self.dw_down[self.stuck] = 0.0
        self.scalars = cfg.kernel_scalars()
        self.nodes_up = np.ascontiguousarray(cfg.kernel_nodes(True), dtype=np.float64)
        self.nodes_down = np.ascontiguousarray(cfg.kernel_nodes(False), dtype=np.float64)
        self.granularity = cfg.granularity()
        self.n_states = cfg.number_of_states()
        self.w = np.clip(np.full(self.shape, float(cfg.w_init)), self.b_min, self.b_max)
        self.write_noise = np.zeros(self.shape)
        self.pulse_count = np.zeros(self.shape, np.int64) if cfg.count_pulses else None
        self.reference = np.ascontiguousarray(self.reference, dtype=np.float64)
        dt = PRECISIONS[precision]
        for name in STATE:
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=dt))
        self.scalars = np.asarray(self.scalars, dtype=dt)
        self.nodes_up = self.nodes_up.astype(dt)
        self.nodes_down = self.nodes_down.astype(dt)

    @property
    def precision(self) -> str:
        """``float32`` or ``float64``: the format of the pulsed state (``w.dtype``)."""
        return self.w.dtype.name

    # ---- reading ------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def cols(self) -> int:
        return self.shape[1]

    def visible_weights(self) -> np.ndarray:
        """What a read sees: w + write noise − reference (PHYSICS.md §1); a fresh array.
        (Write noise is only ever drawn when write_noise_std > 0, else it stays zero.)"""
        out = self.w - self.reference        # float64 (the reference is): reads are exact
        if self.cfg.write_noise_std > 0:
            out += self.write_noise
        return out

    def visible_columns(self, cols) -> np.ndarray:
        """Columns ``cols`` of :meth:`visible_weights` (M, k), without building the rest."""
        c = np.asarray(cols)
        if c.ndim == 1 and c.size and c.dtype.kind in "iu":
            c0 = int(c[0])
            if c0 >= 0 and c.tolist() == list(range(c0, c0 + c.size)):
                cols = slice(c0, c0 + c.size)     # a run of columns: views, one copy
        out = self.w[:, cols] - self.reference[:, cols]
        if self.cfg.write_noise_std > 0:
            out += self.write_noise[:, cols]
        return out

    def step_sizes(self, up: bool, w=None) -> np.ndarray:
        """Mean step Δ±·q±(w) of one pulse at the current (or given) weights."""
        w = self.w if w is None else np.broadcast_to(np.asarray(w, float), self.shape)
        q = self.cfg.q_fast(up, w, self.p_up, self.p_down, self.b_min, self.b_max,
                            self.scalars, self.nodes_up if up else self.nodes_down)
        return (self.dw_up if up else self.dw_down) * q

    def symmetry_point(self) -> np.ndarray:
        """Per-device w⋄ where mean up and down steps are equal (NaN for ConstantStep):
        the model's closed form where it has one, else bisection."""
        return self.cfg.symmetry_point(self)

    # ---- writing ------------------------------------------------------------------
    def set_weights(self, values, rng: np.random.Generator | None = None) -> None:
        """Program ``w`` directly (clipped to each device's bounds); redraws write noise."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != self.shape or not np.all(np.isfinite(v)):
            raise ValueError(f"weights must be finite with shape {self.shape}, got {v.shape}")
        np.copyto(self.w, np.clip(v, self.b_min, self.b_max))
        if rng is not None:
            self.redraw_write_noise(np.ones(self.shape, bool), rng)

    def redraw_write_noise(self, touched: np.ndarray, rng: np.random.Generator) -> None:
        """New write noise write_noise_std·dw_min·ξ on the touched devices."""
        self.redraw_write_noise_at(np.flatnonzero(touched), rng)

    def redraw_write_noise_at(self, flat_idx: np.ndarray, rng: np.random.Generator) -> None:
        """:meth:`redraw_write_noise` on the devices ``flat_idx`` (row-major indices, in
        increasing order: one draw per device in that order)."""
        if self.cfg.write_noise_std <= 0:
            return
        self.write_noise.flat[flat_idx] = (self.cfg.write_noise_std * self.cfg.dw_min
                                           * rng.standard_normal(len(flat_idx)))

    def apply_decay(self) -> None:
        """One mini-batch of decay: w ← (w − b)(1 − 1/τ_life) + b."""
        if self.tau_life is None:
            return
        keep = np.clip(1.0 - 1.0 / self.tau_life, 0.0, 1.0)
        b = self.cfg.decay_target
        np.copyto(self.w, np.clip((self.w - b) * keep + b, self.b_min, self.b_max))

    def apply_diffusion(self, rng: np.random.Generator) -> None:
        """One mini-batch of diffusion: w += ν_ij ξ, clipped."""
        if self.diffusion_rate is None:
            return
        w = self.w + self.diffusion_rate * rng.standard_normal(self.shape)
        np.copyto(self.w, np.clip(w, self.b_min, self.b_max))

    def end_of_batch(self, rng: np.random.Generator) -> None:
        """Decay then diffusion, once per mini-batch."""
        self.apply_decay()
        self.apply_diffusion(rng)

    def copy(self) -> "DeviceArray":
        new = object.__new__(DeviceArray)
        for k, v in self.__dict__.items():
            setattr(new, k, v.copy() if isinstance(v, np.ndarray) else v)
        return new
