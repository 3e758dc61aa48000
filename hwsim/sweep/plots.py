"""Sweep plots (layer 6; matplotlib, the optional extra ``plot``), readable at hundreds
of points.

* ``scatter`` — one panel per pair of objectives.  Every point is drawn small and
  grey; the points on the sweep's Pareto front are red; only the points that are on
  the front *of that panel's two objectives* are labelled (their scalar parameters),
  at most :data:`MAX_LABELS` of them, evenly spread along the panel's front.  An axis
  whose values span more than a factor :data:`LOG_SPAN` is logarithmic.
* ``energy_breakdown`` / ``latency_breakdown`` — energy per sample stacked by
  component kind and latency per sample stacked by phase, for the front points only
  (ordered by the first objective; at most :data:`MAX_BARS`, evenly spread), so every
  bar has a readable tick label.

Each is written as PNG and SVG; without matplotlib a one-line notice and no files.
"""
from __future__ import annotations

import itertools
import os
import warnings

import math

from hwsim.report.plots import si_scale
from hwsim.sweep.evaluate import METRICS
from hwsim.sweep.pareto import pareto_mask

#: most labelled points per scatter panel
MAX_LABELS = 12
#: most bars in a breakdown plot
MAX_BARS = 40
#: least distance between two labels (fraction of the panel's width/height)
MIN_LABEL_GAP = 0.07
#: an axis spanning more than this factor (max / min of positive values) is logarithmic
LOG_SPAN = 30.0


def label(row, keys) -> str:
    """Short point label: the point's values of ``keys`` (:func:`label_keys`), ≤ 40 chars."""
    text = ",".join(str(row["params"][k]) for k in keys)
    return text if len(text) <= 40 else text[:39] + "…"


def spread(items: list, n: int) -> list:
    """At most ``n`` of ``items``, evenly spaced, first and last included."""
    if len(items) <= n:
        return list(items)
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


def _normalizer(values):
    """value -> position in [0, 1] along an axis (log where :func:`wants_log`)."""
    f = math.log10 if wants_log(values) else float
    lo, hi = min(map(f, values)), max(map(f, values))
    return lambda v: (f(v) - lo) / (hi - lo) if hi > lo else 0.5


def wants_log(values) -> bool:
    pos = [v for v in values if v is not None and v > 0]
    return len(pos) == len(values) and bool(pos) and max(pos) / min(pos) > LOG_SPAN


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


def label_keys(spec, rows) -> list[str]:
    """The keys a point label shows: scalar keys, without those another shown key
    determines over every point (a zip group's ``tile.cols``, ``tile.count`` follow
    ``tile.rows``)."""
    scalar = [k for k in spec.keys
              if all(not isinstance(r["params"][k], (dict, list, tuple)) for r in rows)]
    shown: list[str] = []
    for k in scalar:
        if not any(len({(r["params"][j], r["params"][k]) for r in rows})
                   == len({r["params"][j] for r in rows}) for j in shown):
            shown.append(k)
    return shown


def metric_scale(m: str, values) -> tuple[float, str]:
    """``(factor, unit)`` to draw metric ``m`` in (SI prefix chosen from the values)."""
    unit = METRICS[m][0]
    if unit in ("J", "s", "W"):
        return si_scale(values, unit)
    if unit == "m^2":
        return si_scale(values, "m²", square=True)
    return 1.0, unit


def scatter_panel(ax, spec, pts, a, b, keys) -> None:
    """One objective pair: all points, the front in red, labels on the panel's 2-D front."""
    (fx, ux), (fy, uy) = (metric_scale(a, [r["metrics"][a] for r in pts]),
                          metric_scale(b, [r["metrics"][b] for r in pts]))
    xs = [r["metrics"][a] / fx for r in pts]
    ys = [r["metrics"][b] / fy for r in pts]
    front = [r for r in pts if r["pareto"]]
    ax.scatter(xs, ys, c="0.65", s=8, alpha=0.6, linewidths=0, label="dominated / infeasible")
    ax.scatter([r["metrics"][a] / fx for r in front], [r["metrics"][b] / fy for r in front],
               c="tab:red", s=18, label=f"Pareto front ({len(front)})")
    senses = [spec.objectives.get(a, "min"), spec.objectives.get(b, "min")]
    mask = pareto_mask([[x, y] for x, y in zip(xs, ys)], senses) if pts else []
    flat = sorted((r for r, on in zip(pts, mask) if on and r["pareto"]),
                  key=lambda r: r["metrics"][a])
    from matplotlib.ticker import MaxNLocator
    for m, unit, vals, axis, set_scale, set_label in (
            (a, ux, xs, ax.xaxis, ax.set_xscale, ax.set_xlabel),
            (b, uy, ys, ax.yaxis, ax.set_yscale, ax.set_ylabel)):
        if wants_log(vals):
            set_scale("log")
        else:                                   # few ticks, no offset: labels never collide
            axis.set_major_locator(MaxNLocator(4))
            axis.get_major_formatter().set_useOffset(False)
        sense = f" ({spec.objectives[m]})" if m in spec.objectives else ""
        set_label(f"{m} [{unit}]{sense}")
    norm = [_normalizer(xs), _normalizer(ys)]
    kept: list[tuple[float, float]] = []
    for r in spread(flat, MAX_LABELS):
        u, v = norm[0](r["metrics"][a] / fx), norm[1](r["metrics"][b] / fy)
        if all(math.hypot(u - p, v - q) > MIN_LABEL_GAP for p, q in kept):
            kept.append((u, v))
            ax.annotate(label(r, keys), (r["metrics"][a] / fx, r["metrics"][b] / fy),
                        fontsize=6, xytext=(4, 3), textcoords="offset points", color="tab:red")
    ax.grid(alpha=0.3, which="both" if wants_log(xs) or wants_log(ys) else "major")


def write_plots(spec, rows, out, notice=print) -> list[str]:
    """Scatter, energy and latency breakdown plots; [] with a notice if matplotlib is absent."""
    try:
        figs = figures(spec, rows)
    except ImportError:
        notice("hwsim sweep: matplotlib is not installed (pip install .[plot]); skipping plots")
        return []
    written = []
    for stem, fig in figs.items():
        written += _save(fig, out, stem)
    return written


def figures(spec, rows) -> dict:
    """``{stem: Figure}`` of the sweep's plots (ImportError without matplotlib)."""
    from matplotlib.figure import Figure
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        return {}
    figs = {}
    keys = label_keys(spec, ok)
    objs = [o for o in spec.objectives if any(r["metrics"][o] is not None for r in ok)]
    pairs = list(itertools.combinations(objs, 2))
    if len(objs) == 1:                       # one objective: against the chip area
        pairs = [(objs[0], "area" if objs[0] != "area" else "energy_per_sample")]
    if pairs:
        ncols = min(3, len(pairs))
        nrows = -(-len(pairs) // ncols)
        fig = Figure(figsize=(5 * ncols, 4.4 * nrows))
        axs = fig.subplots(nrows, ncols, squeeze=False)
        for ax in axs.flat[len(pairs):]:
            ax.set_visible(False)
        for ax, (a, b) in zip(axs.flat, pairs):
            pts = [r for r in ok if r["metrics"][a] is not None and r["metrics"][b] is not None]
            scatter_panel(ax, spec, pts, a, b, keys)
        axs.flat[0].legend(fontsize=7)
        fig.suptitle(f"{spec.name}: {len(ok)} points; labels: {', '.join(keys)}", fontsize=10)
        figs["scatter"] = fig
    first = next(iter(spec.objectives), None)
    front = [r for r in ok if r["pareto"]] or ok
    if first is not None and all(r["metrics"].get(first) is not None for r in front):
        front = sorted(front, key=lambda r: r["metrics"][first])
    bars = spread(front, MAX_BARS)
    for stem, field, ylabel, unit_of in (
            ("energy_breakdown", "energy_by_kind_J", "energy", "J"),
            ("latency_breakdown", "latency_by_phase_s", "latency", "s")):
        parts = sorted({k for r in bars for k in ((r["breakdown"] or {}).get(field) or {})})
        if not parts:
            continue
        fig = Figure(figsize=(max(8.0, 0.28 * len(bars) + 4.5), 4.8))
        ax = fig.subplots()
        bottom = [0.0] * len(bars)
        totals = [sum(((r["breakdown"] or {}).get(field) or {}).values()) for r in bars]
        factor, unit = si_scale(totals, unit_of)
        for part in parts:
            vals = [((r["breakdown"] or {}).get(field) or {}).get(part, 0.0) / factor
                    for r in bars]
            ax.bar(range(len(bars)), vals, bottom=bottom, label=part)
            bottom = [b + v for b, v in zip(bottom, vals)]
        per = (bars[0]["breakdown"] or {}).get("per", "sample")
        ax.set_ylabel(f"{ylabel} [{unit}] per {per}")
        if wants_log(totals):                 # stacks spanning decades: log axis
            ax.set_yscale("log")
            ax.set_ylabel(f"{ylabel} [{unit}] per {per} (log scale)")
        ax.set_xticks(range(len(bars)))
        ax.set_xticklabels([label(r, keys) for r in bars], rotation=90, fontsize=7)
        ax.set_xlabel(", ".join(keys))
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        which = (f"{len(bars)} of the {len(front)} Pareto-front points"
                 if any(r["pareto"] for r in ok) else f"{len(bars)} of {len(ok)} points")
        ax.set_title(f"{spec.name}: {stem.replace('_', ' ')}\n({which}, in order of {first})",
                     fontsize=9)
        figs[stem] = fig
    return figs
