"""Registry of component kinds (layer 2): kind name -> class.

Component modules register themselves with :func:`register`; the build layer and
``hwsim describe`` look kinds up here.
"""
from __future__ import annotations

_KINDS: dict[str, type] = {}


def register(cls):
    """Class decorator: make a component kind known by its ``KIND`` name."""
    name = cls.KIND
    if name in _KINDS and _KINDS[name] is not cls:
        raise ValueError(f"component kind '{name}' registered twice")
    _KINDS[name] = cls
    return cls


def kind(name: str):
    if name not in _KINDS:
        raise KeyError(name)
    return _KINDS[name]


def kinds() -> dict[str, type]:
    return dict(sorted(_KINDS.items()))
