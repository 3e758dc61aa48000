"""``hwsim schema [WHICH]``: the JSON Schema of an accelerator or experiment YAML file."""
from __future__ import annotations

import json

from hwsim.api import schema
from hwsim.errors import HwsimError


def register(sub) -> None:
    p = sub.add_parser("schema", help="JSON Schema of the YAML files", description=__doc__)
    p.add_argument("which", nargs="?", default="accelerator",
                   help="accelerator (default), experiment, sweep, device, network, an "
                   "algorithm's section, dataset.<name> ... (`hwsim describe` lists them)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=execute)


def execute(args) -> int:
    text = json.dumps(schema(args.which), indent=1, sort_keys=True)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise HwsimError(f"cannot write the schema: {exc.strerror}", file=args.output) from None
    else:
        print(text)
    return 0
