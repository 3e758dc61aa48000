"""``hwsim sweep SWEEP``: a design-space sweep (grid of points, Pareto front, plots).
Exit status 0 when every point finished, 1 when some failed."""
from __future__ import annotations

from hwsim.api import sweep
from hwsim.cli.common import add_progress_option


def register(sub) -> None:
    p = sub.add_parser("sweep", help="design-space sweep: grid of points, Pareto front, plots",
                       description=__doc__)
    p.add_argument("sweep", help="sweep YAML (configs/sweeps/*.yaml)")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed scheduler, or 'local' for a Dask "
                   "cluster of --workers processes (pip install .[dask])")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (default runs/sweeps/<sweep>)")
    p.add_argument("--retry-failed", action="store_true", help="run failed points again")
    p.add_argument("--allow-large", action="store_true",
                   help="run a grid of more than 100 000 points")
    p.add_argument("--no-plots", action="store_true", help="do not draw the sweep plots")
    add_progress_option(p)
    p.set_defaults(func=execute)


def execute(args) -> int:
    res = sweep(args.sweep, out=args.out, workers=args.workers, scheduler=args.scheduler,
                progress=not args.no_progress, retry_failed=args.retry_failed,
                plots=not args.no_plots, allow_large=args.allow_large)
    ok = sum(r["status"] == "ok" for r in res.points)
    failed = res.failed
    print(f"{res.name}: {len(res.points)} points, {ok} ok, {len(failed)} failed, "
          f"{len(res.front)} on the Pareto front of "
          f"{', '.join(f'{k} ({v})' for k, v in res.objectives.items())} "
          f"[{res.wall_s:.1f} s]; results in {res.out}")
    for r in failed[:5]:
        err = r["error"] if len(r["error"]) <= 240 else r["error"][:239] + "…"
        print(f"  failed {r['id']} {r['params']}: {err}")
    if len(failed) > 5:
        print(f"  … {len(failed) - 5} more failed points: see {res.out}/results.csv")
    return 1 if failed else 0
