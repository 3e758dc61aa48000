"""``hwsim trace generate NETWORK``: the op stream of an algorithm from layer shapes."""
from __future__ import annotations

from hwsim.trace.generate import generate_cli


def register(sub) -> None:
    p = sub.add_parser("trace", help="training traces: generate from network shapes",
                       description=__doc__)
    tsub = p.add_subparsers(dest="trace_cmd", required=True)
    g = tsub.add_parser("generate", help="op stream of an algorithm for a network of shapes",
                        description=__doc__)
    g.add_argument("network", help="network YAML (configs/networks/*.yaml)")
    g.add_argument("--batch", type=int, required=True, help="mini-batch size (samples)")
    g.add_argument("--steps", type=int, required=True, help="number of mini-batches")
    g.add_argument("--algorithm", required=True, help="sgd, tiki-taka, ttv2, c-ttv2, agad, "
                   "float")
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="algorithm or statistics-model parameter (see `hwsim trace generate "
                   "--help-model`)")
    g.add_argument("-o", "--out", required=True, help="trace file to write (.jsonl.gz)")
    g.set_defaults(func=execute)


def execute(args) -> int:
    return generate_cli(args)
