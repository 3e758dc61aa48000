"""``hwsim run [EXPERIMENT]``: train a network on an accelerator (default: the quickstart)."""
from __future__ import annotations

from hwsim.cli.common import add_progress_option, add_set_option, add_timeline_options
from hwsim.config.experiment import load_experiment, resolve_path
from hwsim.config.overrides import parse_set_args
from hwsim.report import render_text
from hwsim.report.runs import run_report, write_run_outputs
from hwsim.training.runner import run_experiment

QUICKSTART = "quickstart.yaml"


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
    p.add_argument("--trace", metavar="FILE",
                   help="record the issued operations to this trace file (.jsonl.gz)")
    add_timeline_options(p)
    add_progress_option(p)
    p.set_defaults(func=execute)


def execute(args) -> int:
    path = args.experiment or resolve_path(QUICKSTART, None)
    overrides = parse_set_args(args.set)
    if args.epochs is not None:
        overrides["training.epochs"] = args.epochs
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.out:
        overrides["run.out"] = args.out
    if args.no_progress:
        overrides["run.progress"] = False
    cfg = load_experiment(path, overrides)
    result = run_experiment(cfg, resume=args.resume, trace_path=args.trace,
                            timeline=bool(args.timeline or args.vcd), data_dir=args.data)
    report = run_report(result)
    written = write_run_outputs(report, result, timeline=args.timeline, vcd=args.vcd)
    print(render_text(report))
    print("wrote " + ", ".join(written))
    return 0
