"""``hwsim describe [KIND]``: parameters, ports and actions of a component kind, or the
keys of a config section (case-insensitive)."""
from __future__ import annotations

from hwsim.api import describe


def register(sub) -> None:
    p = sub.add_parser("describe", help="parameters of a component kind or section",
                       description=__doc__)
    p.add_argument("kind", nargs="?",
                   help="component kind (e.g. ADC) or section (e.g. accelerator); "
                   "omit to list them")
    p.set_defaults(func=execute)


def execute(args) -> int:
    print(describe(args.kind))
    return 0
