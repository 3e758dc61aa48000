"""``hwsim replay ACCELERATOR TRACE``: latency, energy and area of a training trace.
Prints the short report (``--verbose``: every table)."""
from __future__ import annotations

from hwsim.api import default_replay_out, replay
from hwsim.cli.common import (add_format_option, add_plots_option, add_progress_option,
                              add_set_option, add_timeline_options, add_verbose_option,
                              full_tables_line)
from hwsim.config.overrides import parse_set_args


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
    add_format_option(p)
    add_plots_option(p)
    add_verbose_option(p)
    p.add_argument("--no-cache", action="store_true",
                   help="simulate every op (no reuse of identical ops; same results, slower)")
    p.set_defaults(func=execute)


def execute(args) -> int:
    report = replay(args.accelerator, args.trace,
                    out=args.out or default_replay_out(args.trace),
                    overrides=parse_set_args(args.set), progress=not args.no_progress,
                    cache=not args.no_cache, timeline=args.timeline, vcd=args.vcd,
                    formats=args.formats)
    files = list(report.files)
    if args.plots:
        files += report.write_plots(args.plots)
    print(report.text() if args.verbose else report.summary(full_tables=full_tables_line(report)))
    t = report["extra"]["trace"]
    c = t["op_cache"]
    print(f"replayed {t['ops_replayed']} ops in {t['replay_wall_s']:.2f} s (op cache: "
          f"{c['hits']} hits, {c['misses']} simulated)")
    print(f"wrote {' and '.join(files)}")
    return 0
