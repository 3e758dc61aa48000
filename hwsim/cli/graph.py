"""``hwsim graph ACCELERATOR``: the component graph as Graphviz DOT (and SVG when ``dot``
is installed)."""
from __future__ import annotations

from hwsim.api import load_accelerator
from hwsim.cli.common import add_set_option
from hwsim.config.overrides import parse_set_args
from hwsim.elaborate.dot import write_graph


def register(sub) -> None:
    p = sub.add_parser("graph", help="component graph as Graphviz DOT (and SVG with dot)",
                       description=__doc__)
    p.add_argument("accelerator", help="accelerator YAML")
    p.add_argument("-o", "--output", default="arch.dot", metavar="FILE",
                   help="DOT file to write (default arch.dot; the SVG goes beside it)")
    add_set_option(p, "an accelerator key")
    p.set_defaults(func=execute)


def execute(args) -> int:
    cfg = load_accelerator(args.accelerator, parse_set_args(args.set))
    for w in write_graph(cfg, args.output):
        print(f"wrote {w}")
    return 0
