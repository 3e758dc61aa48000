"""``hwsim replay ACCELERATOR TRACE``: latency, energy and area of a training trace."""
from __future__ import annotations

from hwsim.cli.common import add_progress_option, add_set_option, add_timeline_options
from hwsim.report.replays import replay_cli


def register(sub) -> None:
    p = sub.add_parser("replay", help="latency/energy/area of a training trace on an "
                       "accelerator", description=__doc__)
    p.add_argument("accelerator", help="accelerator YAML")
    p.add_argument("trace", help="trace file (.jsonl.gz, see traces/README.md)")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (default runs/replay-<trace>)")
    add_set_option(p, "an accelerator key")
    add_progress_option(p)
    add_timeline_options(p)
    p.add_argument("--no-cache", action="store_true",
                   help="simulate every op (no reuse of identical ops; same results, slower)")
    p.set_defaults(func=execute)


def execute(args) -> int:
    return replay_cli(args)
