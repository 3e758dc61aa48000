"""Loading a device model (layer 1, beside the models of :mod:`hwsim.devices`).

A device is one model's section of :mod:`hwsim.devices` (PHYSICS.md §1: one step model,
its device-to-device spreads "dtod", cycle-to-cycle noise "std", reference offset,
write noise, decay, diffusion, stuck devices).  The pulsed update's own parameters
are :class:`hwsim.config.update.UpdateConfig`.

:func:`load_device` accepts a preset name (``configs/devices/<name>.yaml``), a path
(relative to ``base_dir``) or an inline mapping; its ``model`` key picks the section it
is validated against (an other model's key is an error with file, line and key).
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from hwsim.config.params import build_section
from hwsim.config.yamlio import YDict, file_of, line_of, load_yaml
from hwsim.devices.base import DEFAULT_MODEL, DeviceConfig, device_sections
from hwsim.errors import ConfigError

__all__ = ["DEVICE_MODELS", "list_device_presets", "load_device", "preset_dirs"]

#: the shipped device models (hwsim.devices.device_sections() also lists models
#: registered later)
DEVICE_MODELS = tuple(device_sections())


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


def _build(data, path: str) -> DeviceConfig:
    """The section of the model ``data`` names, built from ``data``."""
    data = _strip_schema_version(data)
    if not isinstance(data, dict):
        return build_section(DeviceConfig, data, path)     # raises: not a mapping
    sections = device_sections()
    name = data.get("model", DEFAULT_MODEL)
    key = f"{path}.model" if path else "model"
    if not isinstance(name, str) or name not in sections:
        raise ConfigError(f"unknown device model {name!r} (known: {', '.join(sections)})",
                          file=file_of(data), line=line_of(data, "model"), key=key)
    cls = sections[name]
    own = {f.name for f in fields(cls)}
    for k in data:
        owners = [m for m, c in sections.items() if k in {f.name for f in fields(c)}]
        if k not in own and owners:
            raise ConfigError(f"'{k}' is a parameter of device model {', '.join(owners)}, "
                              f"not of {name}", file=file_of(data), line=line_of(data, k),
                              key=f"{path}.{k}" if path else str(k))
    return build_section(cls, data, path)       # unknown keys: did-you-mean errors


def load_device(ref, base_dir=None) -> DeviceConfig:
    """The device section (a :class:`DeviceConfig` subclass) of a preset name, a YAML
    path or an inline mapping.

    A string without a path separator or ``.yaml`` suffix is a preset name looked up in
    ``configs/devices/``; otherwise it is a file path, relative to ``base_dir`` (or
    the working directory).  Errors are :class:`ConfigError` with file, line and key.
    """
    if isinstance(ref, DeviceConfig):
        return ref
    if isinstance(ref, dict):
        return _build(ref, "device")
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
    return _build(data, "")


