"""Every in-memory training algorithm, by the name experiments use."""
from __future__ import annotations

from hwsim.training.algorithms.float_sgd import FloatSGD

ALGORITHMS: dict = {"float": FloatSGD}


def register(cls):
    ALGORITHMS[cls.NAME] = cls
    return cls


def algorithm_class(name: str):
    return ALGORITHMS[name]


def algorithm_sections() -> dict:
    return {name: cls.Params for name, cls in ALGORITHMS.items()}


def _load_all():
    import importlib
    for mod in ("sgd", "tiki_taka", "ttv2", "cttv2", "agad", "mixed_precision", "hic", "sbpca"):
        try:
            m = importlib.import_module(f"hwsim.training.algorithms.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"hwsim.training.algorithms.{mod}":
                raise
            continue
        for obj in vars(m).values():
            if isinstance(obj, type) and getattr(obj, "NAME", None) and obj.__module__ == m.__name__:
                ALGORITHMS[obj.NAME] = obj


_load_all()
