"""``hwsim run [EXPERIMENT]``: train a network on an accelerator (default: the quickstart)."""
from __future__ import annotations

from hwsim.api import run
from hwsim.cli.common import (add_format_option, add_progress_option, add_set_option,
                              add_timeline_options)
from hwsim.config.overrides import parse_set_args


def register(sub) -> None:
    p = sub.add_parser("run", help="train a network on an accelerator (default: quickstart)",
                       description=__doc__)
    p.add_argument("experiment", nargs="?", help="experiment YAML (default: shipped quickstart)")
    add_set_option(p, "an experiment key")
    p.add_argument("--epochs", type=int, help="number of epochs (training.epochs)")
    p.add_argument("--seed", type=int, help="random seed of data, devices and kernels (run.seed)")
    p.add_argument("--out", metavar="DIR", help="output directory (run.out)")
    p.add_argument("--data", metavar="DIR",
                   help="data directory (MNIST IDX files); also HWSIM_DATA")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--allow-large", action="store_true", help="run beyond the size budgets "
                   "(tile count, memory) that validation otherwise refuses (run.allow_large)")
    p.add_argument("--trace", metavar="FILE",
                   help="record the issued operations to this trace file (.jsonl.gz)")
    add_timeline_options(p)
    add_format_option(p)
    add_progress_option(p)
    p.set_defaults(func=execute)


def execute(args) -> int:
    overrides = parse_set_args(args.set)
    if args.allow_large:
        overrides["run.allow_large"] = True
    report = run(args.experiment, epochs=args.epochs, seed=args.seed, out=args.out,
                 overrides=overrides, progress=False if args.no_progress else None,
                 data_dir=args.data, resume=args.resume, trace=args.trace,
                 timeline=args.timeline, vcd=args.vcd, formats=args.formats)
    print(report.text())
    print("wrote " + ", ".join(report.files))
    return 0
