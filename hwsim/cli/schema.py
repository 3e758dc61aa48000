"""``hwsim schema [WHICH]``: the JSON Schema of an accelerator or experiment YAML file."""
from __future__ import annotations

import json

from hwsim.api import schema


def register(sub) -> None:
    p = sub.add_parser("schema", help="JSON Schema of the YAML files", description=__doc__)
    p.add_argument("which", nargs="?", default="accelerator",
                   help="accelerator (default), experiment or an algorithm's section")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=execute)


def execute(args) -> int:
    text = json.dumps(schema(args.which), indent=1, sort_keys=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0
