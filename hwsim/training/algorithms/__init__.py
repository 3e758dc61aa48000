"""Every in-memory training algorithm, by the name experiments use.

Each module of this package declares its algorithm class (a subclass of
:class:`~hwsim.training.algorithms.base.Algorithm` with a ``NAME``), which registers
itself; importing this package imports every module in it, so a new algorithm is a
new module here and nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil

from hwsim.config.yamlio import line_of, load_yaml
from hwsim.errors import ConfigError
from hwsim.training.algorithms.base import ALGORITHMS, Algorithm

__all__ = ["ALGORITHMS", "Algorithm", "algorithm_class", "algorithm_sections",
           "experiment_schema"]

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")


def algorithm_class(name: str, file: str | None = None, key: str = "training.algorithm"):
    """The class registered as ``name``; an unknown name is a :class:`ConfigError` naming
    ``file``, the line of ``key`` in it (when it can be found) and the known names."""
    cls = ALGORITHMS.get(name)
    if cls is not None:
        return cls
    raise ConfigError(f"unknown algorithm '{name}' (available: {', '.join(sorted(ALGORITHMS))})",
                      file=file, line=_line(file, key), key=key)


def _line(file, key):
    """Line of the dotted ``key`` in the YAML ``file`` (None when it cannot be found)."""
    if not file:
        return None
    try:
        node = load_yaml(file)
        *parents, last = key.split(".")
        for k in parents:
            node = node[k]
        return line_of(node, last)
    except (OSError, KeyError, TypeError, ConfigError):
        return None


def algorithm_sections() -> dict:
    """The parameter section of every algorithm (``describe``/``schema`` read it)."""
    return {name: cls.Params for name, cls in ALGORITHMS.items()}


def experiment_schema(schema: dict) -> dict:
    """The experiment's JSON Schema with ``training.algorithm`` restricted to the registered
    names (the config layer declares the key; this layer knows the algorithms)."""
    prop = schema["properties"]["training"]["properties"]["algorithm"]
    prop["enum"] = sorted(ALGORITHMS)
    return schema
