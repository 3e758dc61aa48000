"""Sweep outputs (layer 6): results.csv/.json, pareto.csv and plots.

Rows are the sweep's points in grid order, each with its keys, seed, status
(``ok`` / ``failed`` / ``pending``), ``feasible`` (every metric constraint holds),
``pareto`` (on the front of the objectives among feasible ``ok`` points, see
:mod:`hwsim.sweep.pareto`), every metric of :data:`~hwsim.sweep.evaluate.METRICS`
and the error text of a failed point.

Plots (matplotlib, optional extra ``plot``; without it a one-line notice): the
objective scatter with the front highlighted (one panel per pair of objectives),
the energy per sample of each point stacked by component kind, and the latency
per sample stacked by phase — each as PNG and SVG.
"""
from __future__ import annotations

import csv
import itertools
import json
import os
import warnings

from hwsim.sweep.evaluate import METRICS
from hwsim.sweep.pareto import pareto_mask
from hwsim.sweep.spec import holds


def _fmt(v):
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, sort_keys=True)
    return "" if v is None else v


def assemble(spec, records: dict) -> list[dict]:
    """One row per point of ``spec`` (grid order) from the latest record of each id."""
    rows = []
    for pt in spec.points:
        rec = records.get(pt.id)
        status = rec["status"] if rec else "pending"
        metrics = (rec or {}).get("metrics") or {}
        values = {**pt.params, **{m: metrics.get(m) for m in METRICS}}
        feasible = None
        if status == "ok":
            feasible = all(holds(c, values, spec.file, pt.params)
                           for c in spec.constraints if c.post)
        rows.append({"id": pt.id, "params": pt.params, "seed": pt.seed, "status": status,
                     "feasible": feasible, "pareto": False,
                     "metrics": {m: metrics.get(m) for m in METRICS},
                     "breakdown": (rec or {}).get("breakdown"), "error": (rec or {}).get("error"),
                     "wall_s": (rec or {}).get("wall_s")})
    objs = list(spec.objectives)
    cand = [r for r in rows if r["status"] == "ok" and r["feasible"]
            and all(r["metrics"][o] is not None for o in objs)]
    if cand:
        mask = pareto_mask([[r["metrics"][o] for o in objs] for r in cand],
                           [spec.objectives[o] for o in objs])
        for r, on in zip(cand, mask):
            r["pareto"] = bool(on)
    return rows


def _columns(spec) -> list[str]:
    return ["id", "status", "feasible", "pareto", *spec.keys, "seed", *METRICS, "error"]


def _flat(row) -> dict:
    return {"id": row["id"], "status": row["status"], "feasible": _fmt(row["feasible"]),
            "pareto": row["pareto"], **{k: _fmt(v) for k, v in row["params"].items()},
            "seed": row["seed"], **{k: _fmt(v) for k, v in row["metrics"].items()},
            "error": _fmt(row["error"])}


def _write_csv(path, spec, rows) -> None:
    tmp = f"{path}.partial"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=_columns(spec))
        w.writeheader()
        for r in rows:
            w.writerow(_flat(r))
    os.replace(tmp, path)


def write_tables(spec, rows, out) -> list[str]:
    """results.csv, results.json (every point) and pareto.csv (front, by 1st objective)."""
    out = str(out)
    _write_csv(os.path.join(out, "results.csv"), spec, rows)
    front = sorted((r for r in rows if r["pareto"]),
                   key=lambda r: [(r["metrics"][o] if spec.objectives[o] == "min"
                                   else -r["metrics"][o]) for o in spec.objectives])
    _write_csv(os.path.join(out, "pareto.csv"), spec, front)
    doc = {"name": spec.name, "sweep_file": spec.file, "seed": spec.seed,
           "objectives": spec.objectives, "keys": list(spec.keys),
           "constraints": [c.expr.text for c in spec.constraints],
           "metrics": {k: {"unit": u, "desc": d} for k, (u, d) in METRICS.items()},
           "counts": {s: sum(r["status"] == s for r in rows) for s in ("ok", "failed", "pending")},
           "points": rows}
    tmp = os.path.join(out, "results.json.partial")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, default=str)
    os.replace(tmp, os.path.join(out, "results.json"))
    return [os.path.join(out, n) for n in ("results.csv", "results.json", "pareto.csv")]


def _label(row, keys) -> str:
    """Short bar label: the point's scalar values (mappings/lists are left out), ≤ 40 chars."""
    text = ",".join(str(row["params"][k]) for k in keys
                    if not isinstance(row["params"][k], (dict, list, tuple)))
    return text if len(text) <= 40 else text[:39] + "…"


def _save(fig, out, stem) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # very long labels: keep the figure
        fig.tight_layout()
    paths = []
    for ext in ("png", "svg"):
        p = os.path.join(str(out), f"{stem}.{ext}")
        fig.savefig(p, dpi=100)
        paths.append(p)
    return paths


def write_plots(spec, rows, out, notice=print) -> list[str]:
    """Scatter, energy and latency breakdown plots; [] with a notice if matplotlib is absent."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        notice("hwsim sweep: matplotlib is not installed (pip install .[plot]); skipping plots")
        return []
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        return []
    written = []
    objs = [o for o in spec.objectives if any(r["metrics"][o] is not None for r in ok)]
    pairs = list(itertools.combinations(objs, 2))
    if len(objs) == 1:                       # one objective: against the chip area
        pairs = [(objs[0], "area" if objs[0] != "area" else "energy_per_sample")]
    if pairs:
        ncols = min(3, len(pairs))
        nrows = -(-len(pairs) // ncols)
        fig, axs = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 4 * nrows), squeeze=False)
        for ax in axs.flat[len(pairs):]:
            ax.set_visible(False)
        for ax, (a, b) in zip(axs.flat, pairs):
            pts = [r for r in ok if r["metrics"][a] is not None and r["metrics"][b] is not None]
            for group, style in (([r for r in pts if not r["pareto"]],
                                  dict(c="0.6", s=14, label="dominated / infeasible")),
                                 ([r for r in pts if r["pareto"]],
                                  dict(c="tab:red", s=30, label="Pareto front"))):
                ax.scatter([r["metrics"][a] for r in group], [r["metrics"][b] for r in group],
                           **style)
            for set_label, m in ((ax.set_xlabel, a), (ax.set_ylabel, b)):
                sense = f" ({spec.objectives[m]})" if m in spec.objectives else ""
                set_label(f"{m} [{METRICS[m][0]}]{sense}")
            ax.grid(alpha=0.3)
        axs.flat[0].legend(fontsize=8)
        fig.suptitle(spec.name)
        written += _save(fig, out, "scatter")
        plt.close(fig)
    for stem, field, ylabel in (("energy_breakdown", "energy_by_kind_J", "energy [J]"),
                                ("latency_breakdown", "latency_by_phase_s", "latency [s]")):
        parts = sorted({k for r in ok for k in ((r["breakdown"] or {}).get(field) or {})})
        if not parts:
            continue
        fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(ok) + 2), 4))
        bottom = [0.0] * len(ok)
        for part in parts:
            vals = [((r["breakdown"] or {}).get(field) or {}).get(part, 0.0) for r in ok]
            ax.bar(range(len(ok)), vals, bottom=bottom, label=part)
            bottom = [b + v for b, v in zip(bottom, vals)]
        per = (ok[0]["breakdown"] or {}).get("per", "sample")
        ax.set_ylabel(f"{ylabel} per {per}")
        ax.set_xticks(range(len(ok)))
        ax.set_xticklabels([_label(r, spec.keys) for r in ok], rotation=90, fontsize=6)
        ax.set_xlabel(", ".join(k for k in spec.keys if not isinstance(
            ok[0]["params"][k], (dict, list, tuple))))
        ax.legend(fontsize=7, ncol=2)
        ax.set_title(f"{spec.name}: {stem.replace('_', ' ')}")
        written += _save(fig, out, stem)
        plt.close(fig)
    return written
