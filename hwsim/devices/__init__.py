"""Device models, one module each (PHYSICS.md §1; between hwsim.config and hwsim.physics).

Each module holds one model's config section (a :class:`DeviceConfig` subclass: the
shared step, spread, bound and non-ideality fields plus its own), its equation and
citation, its NumPy reference step (the oracle of the compiled kernel) and its
:class:`KernelCode`.  Adding a model is one module decorated with :func:`device_model`
(imported below for the shipped ones, or anywhere before the model is used).
A device YAML names its model (``model: soft_bounds``) and is validated against that
model's own section by :func:`hwsim.devices.loader.load_device`.

To add a device model: a module here with its section (``model: str =
model_param("<name>")``, its parameters, ``q`` and, where it has per-device parameters,
``device_params``), and its import line below.  Without ``kernel`` it runs on the numpy
backend only (the cython backend refuses it with a BackendError); a compiled step also
needs a :class:`KernelCode` member and the same ``MODEL_<NAME>`` code and ``q_step``
branch in ``cython_ext/pulse_device.pxi`` (checked against each other at import).
"""
from __future__ import annotations

from hwsim.config.params import json_schema
# the shipped models, registered in the order of the PHYSICS.md §1 table
from hwsim.devices import constant_step, linear_step, soft_bounds  # noqa: F401  (isort: skip)
from hwsim.devices import exp_step, pow_step, piecewise_step, response  # noqa: F401
from hwsim.devices.base import (DEFAULT_MODEL, DTOD_FLOOR, DeviceConfig, KernelCode,
                                check_kernel_codes, derive, device_model, device_section,
                                device_sections, libm_exp, libm_pow, model_param, model_section,
                                register_device_model, unregister_device_model)
# after the shipped models: DEVICE_MODELS lists them
from hwsim.devices.loader import (DEVICE_MODELS, list_device_presets, load_device,  # noqa: E402
                                  preset_dirs)

__all__ = ["DEFAULT_MODEL", "DEVICE_MODELS", "DTOD_FLOOR", "DeviceConfig", "derive",
           "list_device_presets",
           "load_device", "preset_dirs", "KernelCode", "check_kernel_codes",
           "device_model", "device_schema", "device_section", "device_sections", "libm_exp",
           "libm_pow", "model_param", "model_section", "register_device_model",
           "unregister_device_model"]


def device_schema() -> dict:
    """JSON Schema of a device file: one of the registered models' sections (each fixes
    ``model`` to its name), plus the optional ``schema_version: 1``."""
    variants = []
    for cls in device_sections().values():
        s = json_schema(cls)
        s["properties"]["schema_version"] = {"const": 1, "description": "file format version"}
        variants.append(s)
    return {"description": DeviceConfig.__section_desc__, "oneOf": variants}
