"""``hwsim describe [KIND]``: parameters, ports and actions of a component kind, or the
keys of a config section."""
from __future__ import annotations

import sys

import hwsim.components  # noqa: F401  (registers the component kinds)
from hwsim.config.accelerator import AcceleratorConfig
from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import describe_section
from hwsim.core import kinds
from hwsim.errors import HwsimError
from hwsim.training.algorithms import algorithm_sections


def register(sub) -> None:
    p = sub.add_parser("describe", help="parameters of a component kind or section",
                       description=__doc__)
    p.add_argument("kind", nargs="?",
                   help="component kind (e.g. ADC) or section (e.g. accelerator); "
                   "omit to list them")
    p.set_defaults(func=execute)


def sections() -> dict:
    """Config sections by name: accelerator, experiment and every algorithm's params."""
    return {"accelerator": AcceleratorConfig, "experiment": ExperimentConfig,
            **algorithm_sections()}


def _doc(cls) -> str:
    """First line of a class's docstring, else of its module's."""
    text = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def execute(args) -> int:
    secs = sections()
    if not args.kind:
        print("component kinds:")
        for name, cls in kinds().items():
            print(f"  {name:20s} {_doc(cls)}")
        print("sections: " + ", ".join(sorted(secs)))
        return 0
    k = args.kind
    if k in kinds():
        cls = kinds()[k]
        print(f"{k}: {_doc(cls)}")
        print("parameters:")
        print("\n".join(describe_section(cls.Params)))
        print("ports:")
        for p in cls.PORTS:
            print(f"  {p.name} ({p.direction}, {p.payload}{', shared' if p.multi else ''}): {p.desc}")
        print("actions:")
        for a, d in cls.ACTIONS.items():
            print(f"  {a}: {d}")
        return 0
    if k in secs:
        print("\n".join(describe_section(secs[k])))
        return 0
    raise HwsimError(f"unknown kind or section '{k}' (try `hwsim describe`)")
