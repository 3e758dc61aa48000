"""``hwsim validate FILE``: check an accelerator, experiment, sweep, network, device or
technology file as run, sweep and trace generate read it (``--expand``: print the explicit form of an
accelerator)."""
from __future__ import annotations

import json

from hwsim.api import expand, validate
from hwsim.cli.common import add_set_option
from hwsim.config.overrides import parse_set_args
from hwsim.config.validate import FILE_KINDS


def register(sub) -> None:
    p = sub.add_parser("validate", help="check an accelerator, experiment, sweep, network, "
                       "device or technology file", description=__doc__)
    p.add_argument("file", help="a YAML file of one of those kinds")
    p.add_argument("--kind", choices=tuple(FILE_KINDS),
                   help="kind of file (default: detected from its keys)")
    p.add_argument("--data", metavar="DIR", help="data directory, as for run (also HWSIM_DATA)")
    p.add_argument("--allow-large", action="store_true",
                   help="accept sizes over the budgets of hwsim/config/validate.py")
    add_set_option(p)
    p.add_argument("--expand", action="store_true",
                   help="print the explicit form (components + connections) of an accelerator")
    p.set_defaults(func=execute)


def execute(args) -> int:
    overrides = parse_set_args(args.set)
    checked = validate(args.file, overrides, kind=args.kind, data_dir=args.data,
                       allow_large=args.allow_large)
    if args.expand and checked.kind == "accelerator":
        print(json.dumps(expand(args.file, overrides), indent=1, sort_keys=True, default=str))
    else:
        print(f"{args.file}: {checked.summary}")
    return 0
