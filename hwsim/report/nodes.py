"""The per-node table of a report (layer 6): time and energy of every network node,
split into the analog, digital and data-movement parts of the machine.

This is the one declaration of that table: :data:`COLUMNS` (name, unit, meaning) is what
``report["nodes"]`` holds, what the text report prints and what ``nodes.csv`` (format
``nodes``) writes.  A node is an op's ``layer`` (an analog layer, a digital node of a
graph network; ``(step)`` for ops of no node: the loss gradient, the update's step
bookkeeping); the part is the ``part`` its op kind declares (:mod:`hwsim.core.ops`)::

    <part>_s = Σ over the node's ops of that part: the op's ticks × 10⁻¹²
    <part>_J = Σ over the actions those ops caused: count × price      (dynamic only)

With the sequential schedule the times add up to the run's total time; with the
pipelined one each op counts its span from start to end (ops overlap, so the sum is
larger).  The energies add up to the dynamic energy; static energy belongs to no node.
A part is the op's, not the block's: the partial sums of an analog layer split over
tiles are digital work and count as digital energy (their transactions perform
``digital``) but their time is inside the analog op.
"""
from __future__ import annotations

import csv
import io
import math
from typing import NamedTuple

from hwsim.core.ops import PARTS

NO_NODE = "(step)"
TICK_S = 1e-12


class Column(NamedTuple):
    name: str
    unit: str
    desc: str


COLUMNS = (Column("node", "-", "network node (layer); (step): ops of no node"),
           *(Column(f"{p}_s", "s", f"time of the node's {p} ops") for p in PARTS),
           *(Column(f"{p}_J", "J", f"dynamic energy of the actions of the node's {p} ops")
             for p in PARTS),
           Column("total_s", "s", "sum of the node's times"),
           Column("total_J", "J", "sum of the node's energies"))


def node_table(node_ticks: dict, node_energy: dict | None = None) -> dict:
    """``{"columns": [...], "rows": [...]}`` from ``(layer, part) → ticks`` and
    ``(layer, part) → J``; nodes in the order their first op ran."""
    energy = node_energy or {}
    order = list(dict.fromkeys([k[0] for k in node_ticks] + [k[0] for k in energy]))
    rows = []
    for layer in order:
        r = {"node": layer or NO_NODE}
        for p in PARTS:
            r[f"{p}_s"] = node_ticks.get((layer, p), 0) * TICK_S
        for p in PARTS:
            r[f"{p}_J"] = energy.get((layer, p), 0.0)
        r["total_s"] = math.fsum(r[f"{p}_s"] for p in PARTS)
        r["total_J"] = math.fsum(r[f"{p}_J"] for p in PARTS)
        rows.append(r)
    return {"columns": [c._asdict() for c in COLUMNS], "rows": rows}


def write_nodes_csv(report: dict, path) -> str:
    """``nodes.csv``: one row per node, the columns of :data:`COLUMNS`."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[c.name for c in COLUMNS], lineterminator="\n")
    w.writeheader()
    w.writerows((report.get("nodes") or {}).get("rows", []))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
    return str(path)
