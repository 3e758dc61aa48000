"""Report files (layer 6): deterministic JSON and a per-row energy CSV.

JSON: keys sorted, floats written with Python's shortest round-trip ``repr``
(``-0.0`` as ``0.0``), tuples and sets as lists, numpy scalars as Python numbers,
NaN/inf rejected — identical inputs give byte-identical files.

CSV: one row per priced ledger row, i.e. per (component, action, attributes, phase),
with ``count``, ``price_J`` and ``energy_J = count × price_J``; the ``energy_J``
column sums to the report's ``energy.total_J``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

CSV_COLUMNS = ("path", "kind", "action", "attrs", "phase", "count", "price_J", "energy_J",
               "source")


def to_jsonable(obj):
    """Plain JSON types from reports (dicts, lists, numbers, numpy scalars, tuples, sets)."""
    t = type(obj)
    if t is str or t is int or obj is None or t is bool:      # the common leaves, fast
        return obj
    if t is float and obj != 0 and math.isfinite(obj):
        return obj
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, tuple) else ":".join(map(str, k)): to_jsonable(v)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_jsonable(v) for v in obj)
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "shape", None) == ():
        obj = obj.item()                            # numpy scalar
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"report contains a non-finite number: {obj!r}")
        return 0.0 if obj == 0 else float(obj)
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    return str(obj)


def to_json_text(report: dict) -> str:
    """Deterministic JSON text of a report (sorted keys, 2-space indent, final newline)."""
    return json.dumps(to_jsonable(report), sort_keys=True, indent=2, ensure_ascii=False,
                      allow_nan=False) + "\n"


def write_json(report: dict, path) -> str:
    """Write ``report`` as JSON to ``path`` (directories created); returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(to_json_text(report))
    return str(path)


def _attrs_text(attrs: dict) -> str:
    return ";".join(f"{k}={v}" for k, v in sorted(attrs.items()))


def energy_csv_rows(report: dict) -> list[dict]:
    """The CSV rows (dicts of CSV_COLUMNS) of ``report['energy']``."""
    energy = report.get("energy") if "energy" in report else report
    if energy is None:
        return []
    rows = []
    for r in energy["rows"]:
        rows.append({"path": r["path"], "kind": r["kind"], "action": r["action"],
                     "attrs": _attrs_text(r["attrs"]), "phase": r["phase"],
                     "count": repr(r["count"]), "price_J": repr(r["price_J"]),
                     "energy_J": repr(r["energy_J"]), "source": r["source"]})
    return rows


def write_csv(report: dict, path) -> str:
    """Write the per-row energy CSV of ``report`` to ``path``; returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(energy_csv_rows(report))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
    return str(path)
