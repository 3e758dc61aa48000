"""Sweep outputs (layer 6): results.csv/.json and pareto.csv (plots: :mod:`hwsim.sweep.plots`).

Rows are the sweep's points in grid order, each with its keys, seed, status
(``ok`` / ``failed`` / ``pending``), ``feasible`` (every metric constraint holds),
``pareto`` (on the front of the objectives among feasible ``ok`` points, see
:mod:`hwsim.sweep.pareto`), every metric of :data:`~hwsim.sweep.evaluate.METRICS`
and the error text of a failed point.

"""
from __future__ import annotations

import csv
import json
import os

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
