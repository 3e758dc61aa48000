"""``hwsim sweep SWEEP``: a design-space sweep (grid of points, Pareto front, plots)."""
from __future__ import annotations

from hwsim.cli.common import add_progress_option
from hwsim.sweep.runner import sweep_cli


def register(sub) -> None:
    p = sub.add_parser("sweep", help="design-space sweep: grid of points, Pareto front, plots",
                       description=__doc__)
    p.add_argument("sweep", help="sweep YAML (configs/sweeps/*.yaml)")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed scheduler (pip install .[dask])")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (default runs/sweeps/<sweep>)")
    p.add_argument("--retry-failed", action="store_true", help="run failed points again")
    p.add_argument("--no-plots", action="store_true", help="do not draw the sweep plots")
    add_progress_option(p)
    p.set_defaults(func=execute)


def execute(args) -> int:
    return sweep_cli(args)
