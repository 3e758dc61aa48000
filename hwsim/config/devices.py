"""Declared parameters of resistive devices and of the pulsed update (layer 1).

:class:`DeviceConfig` holds the device model of PHYSICS.md §1 (one step model, its
device-to-device spreads "dtod", cycle-to-cycle noise "std", reference offset, write
noise, decay, diffusion, stuck devices).  :class:`UpdateConfig` holds the pulse-train
settings of the parallel stochastic update of PHYSICS.md §2 (Gokmen & Vlasov, Front.
Neurosci. 10:333, 2016).

:func:`load_device` accepts a preset name (``configs/devices/<name>.yaml``), a path
(relative to ``base_dir``) or an inline mapping.
"""
from __future__ import annotations

from pathlib import Path

from hwsim.config.params import build_section, param, section
from hwsim.config.yamlio import YDict, file_of, line_of, load_yaml
from hwsim.errors import ConfigError

#: Step models (PHYSICS.md §1 table) and response-function families (Wu et al. 2024).
DEVICE_MODELS = ("constant_step", "linear_step", "soft_bounds", "exp_step", "pow_step",
                 "piecewise_step", "response_linear", "response_offset", "response_power",
                 "response_exp")

_GV16 = "Gokmen & Vlasov 2016 / PHYSICS.md §1"


@section("device", "Resistive cross-point device: step model, spreads and non-idealities")
class DeviceConfig:
    source: str = param("", desc="citation text for the preset values")
    model: str = param("soft_bounds", desc="step model q±(w) of one pulse", choices=DEVICE_MODELS)
    dw_min: float = param(0.001, desc="nominal step Δ of one pulse (weight units)", lo=0,
                          lo_open=True, cite=_GV16)
    dw_min_dtod: float = param(0.3, desc="device-to-device spread of the gain g", lo=0, cite=_GV16)
    dw_min_std: float = param(0.3, desc="cycle-to-cycle multiplicative step noise σ", lo=0,
                              cite=_GV16)
    dw_min_std_add: float = param(0.0, lo=0,
                                  desc="additive per-pulse noise, in units of the device step Δ±")
    dw_min_std_slope: float = param(0.0, lo=0,
                                    desc="per-pulse noise growing with |w|, units of Δ± per weight")
    w_max: float = param(0.6, desc="nominal upper bound", cite=_GV16)
    w_min: float = param(-0.6, desc="nominal lower bound", cite=_GV16)
    w_max_dtod: float = param(0.3, desc="relative spread of the upper bound b_max", lo=0, cite=_GV16)
    w_min_dtod: float = param(0.3, desc="relative spread of the lower bound b_min", lo=0, cite=_GV16)
    up_down: float = param(0.0, desc="systematic up/down step asymmetry", cite=_GV16)
    up_down_dtod: float = param(0.01, desc="device-to-device spread of the asymmetry r", lo=0,
                                cite=_GV16)
    w_init: float = param(0.0, desc="initial weight (clipped into each device's bounds)")
    # LinearStep: q+ = 1 - γ+ w/w_max, q- = 1 - γ- w/w_min
    linear_gamma_up: float = param(0.0, desc="LinearStep slope γ⁺ of the up step")
    linear_gamma_down: float = param(0.0, desc="LinearStep slope γ⁻ of the down step")
    linear_gamma_dtod: float = param(0.0, lo=0, desc="LinearStep relative spread of γ±")
    # ExpStep: z = 2a w/(b_max-b_min) + b.  Defaults: steps vanish at the nominal bounds
    # (A = e^-γ), a symmetric illustrative shape, not a measured device.
    exp_a: float = param(1.0, desc="ExpStep z-scale a")
    exp_b: float = param(0.0, desc="ExpStep z-offset b")
    exp_A_up: float = param(0.0498, desc="ExpStep amplitude A_up")
    exp_A_down: float = param(0.0498, desc="ExpStep amplitude A_dn")
    exp_gamma_up: float = param(3.0, desc="ExpStep exponent γ_up")
    exp_gamma_down: float = param(3.0, desc="ExpStep exponent γ_dn")
    # PowStep: q+ = ((b_max-w)/(b_max-b_min))^γ
    pow_gamma: float = param(1.0, desc="PowStep exponent γ", lo=0, lo_open=True)
    pow_gamma_dtod: float = param(0.0, lo=0, desc="PowStep relative spread of γ")
    # PiecewiseStep: nodes evenly spaced over [b_min, b_max]
    piecewise_up: tuple[float, ...] = param((1.0, 1.0), desc="PiecewiseStep up-step factors at "
                                            "evenly spaced weights from b_min to b_max")
    piecewise_down: tuple[float, ...] = param((1.0, 1.0), desc="PiecewiseStep down-step factors")
    # Response-function families (Wu et al., NeurIPS 2024)
    response_tau: float = param(0.6, desc="response scale τ (q± = f(1 ∓ w/τ))", lo=0, lo_open=True)
    response_offset: float = param(0.0, desc="offset c of response_offset: q± = (1±c)(1∓w/τ)",
                                   lo=-0.99, hi=0.99)
    response_gamma: float = param(1.0, desc="exponent γ of response_power / response_exp", lo=0,
                                  lo_open=True)
    # Non-idealities
    ref_mean: float = param(0.0, desc="mean of the per-device reference r (visible w - r)")
    ref_std: float = param(0.0, lo=0, desc="spread of the per-device reference r")
    write_noise_std: float = param(0.0, lo=0, desc="visible-weight noise after a write, × dw_min")
    lifetime: float = param(0.0, lo=0, desc="decay time constant τ_life in mini-batches (0 = off)")
    lifetime_dtod: float = param(0.0, lo=0, desc="relative spread of τ_life")
    decay_target: float = param(0.0, desc="weight b the decay relaxes to")
    diffusion: float = param(0.0, lo=0, desc="random-walk std per mini-batch (weight units)")
    diffusion_dtod: float = param(0.0, lo=0, desc="relative spread of the diffusion rate")
    stuck_fraction: float = param(0.0, lo=0, hi=1, desc="fraction of devices with zero step")
    count_pulses: bool = param(False, desc="keep an int64 pulse counter per device (endurance)")

    def __post_build__(self, data, path, ctx):
        def fail(key, msg):
            raise ConfigError(msg, file=file_of(data), line=line_of(data, key),
                              key=f"{path}.{key}" if path else key)
        if not self.w_min < self.w_max:
            fail("w_min", f"w_min ({self.w_min}) must be below w_max ({self.w_max})")
        if self.w_max <= 0:
            fail("w_max", "w_max must be positive")
        if self.model == "piecewise_step":
            for key in ("piecewise_up", "piecewise_down"):
                nodes = getattr(self, key)
                if len(nodes) < 2 or min(nodes) < 0:
                    fail(key, "needs at least two non-negative node values")


@section("update", "Pulsed update: stochastic pulse trains, BL and update management")
class UpdateConfig:
    bl_max: int = param(31, desc="maximum pulse-train length BL_max (slots per update)", lo=1,
                        hi=64, cite="Gokmen & Vlasov 2016; PHYSICS.md §2")
    update_management: bool = param(True, desc="balance A, B by sqrt(x_m/d_m) and clip the "
                                    "gradient when k > BL_max", cite="PHYSICS.md §2 step 3")
    fixed_bl: bool = param(False, desc="always use BL_max slots instead of min(ceil(k), BL_max)")
    pulse_type: str = param("stochastic_compressed",
                            desc="stochastic bit trains, deterministic mean counts, or the ideal "
                                 "float update (oracle)",
                            choices=("stochastic_compressed", "mean_count", "none_pulsed"))
    scheme: str = param("parallel", desc="parallel outer product or NeuroSim-style serial rows",
                        choices=("parallel", "serial_row"))
    lumped_noise_threshold: float = param(
        0.5, lo=0, desc="ConstantStep only: if dw_min_std ≤ this, n pulses are one step "
        "n·Δ(1+σξ/√n) (exact in distribution for Gaussian c2c noise away from the bounds)")
    serial_max_pulses: int = param(31, lo=1, desc="serial_row: largest |pulse count| per device")


def preset_dirs() -> list[Path]:
    """Where device presets live: ``<hwsim>/configs`` when installed (setup.py installs
    configs/ as hwsim.configs), ``<hwsim>/../configs`` in a source tree."""
    pkg = Path(__file__).resolve().parents[1]          # the hwsim package directory
    return [d / "devices" for d in (pkg / "configs", pkg.parent / "configs")
            if (d / "devices").is_dir()]


def list_device_presets() -> list[str]:
    names = set()
    for d in preset_dirs():
        names.update(p.stem for p in d.glob("*.yaml"))
    return sorted(names)


def _strip_schema_version(data):
    if not isinstance(data, dict) or "schema_version" not in data:
        return data
    if data["schema_version"] != 1:
        raise ConfigError(f"unsupported schema_version {data['schema_version']!r} (expected 1)",
                          file=file_of(data), line=line_of(data, "schema_version"),
                          key="schema_version")
    out = YDict({k: v for k, v in data.items() if k != "schema_version"})
    if isinstance(data, YDict):
        out.file, out.line = data.file, data.line
        out.key_lines = dict(data.key_lines)
    return out


def load_device(ref, base_dir=None) -> DeviceConfig:
    """A :class:`DeviceConfig` from a preset name, a YAML path or an inline mapping.

    A string without a path separator or ``.yaml`` suffix is a preset name looked up in
    ``configs/devices/``; otherwise it is a file path, relative to ``base_dir`` (or
    the working directory).  Errors are :class:`ConfigError` with file, line and key.
    """
    if isinstance(ref, DeviceConfig):
        return ref
    if isinstance(ref, dict):
        return build_section(DeviceConfig, _strip_schema_version(ref), "device")
    if not isinstance(ref, (str, Path)):
        raise ConfigError(f"device must be a preset name, a file or a mapping, got {ref!r}",
                          key="device")
    text = str(ref)
    is_path = isinstance(ref, Path) or "/" in text or "\\" in text or \
        text.endswith((".yaml", ".yml"))
    if is_path:
        path = Path(text)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        data = load_yaml(str(path))
    else:
        candidates = [d / f"{text}.yaml" for d in preset_dirs()]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ConfigError(f"unknown device preset '{text}' (known: "
                              f"{', '.join(list_device_presets()) or 'none found'})", key="device")
        data = load_yaml(str(found))
    return build_section(DeviceConfig, _strip_schema_version(data), "")


def load_update(data=None) -> UpdateConfig:
    """An :class:`UpdateConfig` from a mapping (``None`` = all defaults)."""
    if isinstance(data, UpdateConfig):
        return data
    return build_section(UpdateConfig, data or {}, "update")
