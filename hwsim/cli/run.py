"""``hwsim run [EXPERIMENT]``: train a network on an accelerator (default: the quickstart).

Prints the short report (``--verbose``: every table); a float baseline of the same
network, data, epochs and seed runs alongside when it is cheap (at most
:data:`BASELINE_MAX_SAMPLES` training samples in all; numerics only, no timing)."""
from __future__ import annotations

import tempfile

from hwsim.api import run
from hwsim.cli.common import (add_format_option, add_plots_option, add_progress_option,
                              add_set_option, add_timeline_options, add_verbose_option,
                              full_tables_line)
from hwsim.config.overrides import parse_set_args

#: the float baseline runs by default up to this many training samples (epochs × set)
BASELINE_MAX_SAMPLES = 20_000
#: what the embedded quickstart prints last
NEXT = ("next: hwsim run --verbose (every table) | --plots plots (pictures) | "
        "hwsim run digits_sgd.yaml (analog SGD, same MLP) | examples/tutorial.ipynb")


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
    p.add_argument("--force", action="store_true",
                   help="overwrite the results of another run in the output directory")
    p.add_argument("--trace", metavar="FILE",
                   help="record the issued operations to this trace file (.jsonl.gz)")
    p.add_argument("--no-baseline", action="store_true",
                   help="do not train the float baseline printed beside the accuracy "
                   f"(it runs when the run trains at most {BASELINE_MAX_SAMPLES} samples)")
    add_timeline_options(p)
    add_format_option(p)
    add_plots_option(p)
    add_verbose_option(p)
    add_progress_option(p)
    p.set_defaults(func=execute)


def float_baseline(args, report) -> dict | None:
    """Accuracy of the same experiment trained with exact digital weights (algorithm
    ``float``, no timing), or None when the run is a float run or too large."""
    samples = sum(h["samples"] for h in report.history)
    if args.no_baseline or report.algorithm == "float" or not report.history:
        return None
    if samples > BASELINE_MAX_SAMPLES:
        return {"note": f"not run ({samples} training samples > {BASELINE_MAX_SAMPLES}; "
                "run the experiment with --set training.algorithm=float)"}
    over = {**parse_set_args(args.set), "training.algorithm": "float", "training.params": {},
            "run.timing": False, "run.checkpoint": False,
            **({"run.allow_large": True} if args.allow_large else {})}
    with tempfile.TemporaryDirectory() as tmp:
        base = run(args.experiment, epochs=args.epochs, seed=args.seed, out=tmp,
                   overrides=over, progress=False, data_dir=args.data, formats=())
    return {"accuracy": base.final_accuracy,
            "note": "same network, data, epochs and seed; exact digital weights"}


def execute(args) -> int:
    overrides = parse_set_args(args.set)
    if args.allow_large:
        overrides["run.allow_large"] = True
    report = run(args.experiment, epochs=args.epochs, seed=args.seed, out=args.out,
                 overrides=overrides, progress=False if args.no_progress else None,
                 data_dir=args.data, resume=args.resume, force=args.force, trace=args.trace,
                 timeline=args.timeline, vcd=args.vcd, formats=args.formats)
    files = list(report.files)
    if args.plots:
        files += report.write_plots(args.plots)
    if args.verbose:
        print(report.text())
    else:
        print(report.summary(baseline=float_baseline(args, report),
                             full_tables=full_tables_line(report)))
    print("wrote " + ", ".join(files))
    if args.experiment is None:
        print(NEXT)
    return 0
