"""Pictures of one report (layer 6; matplotlib, the optional extra ``plot``).

Each ``plot_*`` function takes a report dict (:func:`hwsim.report.report.build_report`,
the content of ``report.json``) and returns a :class:`matplotlib.figure.Figure` made
without pyplot (no global figure state, no GUI backend), or ``None`` when the report
has nothing to draw (a replay has no training curves):

* :func:`plot_training`  — test accuracy and train/test loss per epoch;
* :func:`plot_energy`    — energy per phase stacked by component kind (left) and the
  total per component kind (right);
* :func:`plot_area`      — area per component kind;
* :func:`plot_latency`   — simulated time per phase (shares of the total time; under
  the pipelined schedule phases overlap and the title says so);
* :func:`plot_utilization` — busy time / total time of the busiest components.

:func:`write_plots` saves every figure there is as ``DIR/<name>.png``
(``hwsim run/replay --plots DIR``; :meth:`hwsim.report.view.Report.write_plots`).
Values are drawn in SI-prefixed units chosen from the data (:func:`si_scale`).
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from hwsim.errors import HwsimError

#: most components :func:`plot_utilization` draws (the busiest ones)
MAX_COMPONENTS = 30
_PREFIXES = ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""))


def _figure(**kw):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise HwsimError("plots need matplotlib: pip install 'hwsim[plot]'") from None
    return Figure(**kw)


def si_scale(values, unit: str, square: bool = False) -> tuple[float, str]:
    """``(factor, label)`` so that ``max(values) / factor`` lies in [1, 1000), e.g.
    ``(1e-9, "nJ")``; for areas (``square``) the prefixes square and the largest value
    lies in [0.1, 10⁵): ``(1e-6, "mm²")`` for 0.94 mm²."""
    top = max((abs(v) for v in values), default=0.0)
    factor, prefix = 1.0, ""
    for f, p in _PREFIXES:
        ff = f * f if square else f
        if top >= (0.1 * ff if square else ff) * (1 - 1e-9):
            factor, prefix = ff, p
    return factor, f"{prefix}{unit}"


def _area_text(m2: float) -> str:
    """``'0.9359 mm²'``, ``'1600 µm²'``, ``'0'``: an area with its own prefix."""
    if not m2:
        return "0"
    f, u = si_scale([m2], "m²", square=True)
    x = m2 / f
    return f"{x:,.0f} {u}" if x >= 1000 else f"{x:.4g} {u}"


def overlapping(report: dict) -> bool:
    """True when the phase times add up to more than the total time (phases overlap,
    as under the layer-pipelined schedule)."""
    lat = report["latency"]
    return sum(v["ticks"] for v in lat["phases"].values()) > lat["total_ticks"]


def _title(report: dict, what: str) -> str:
    """``name: what``, on two lines when long (replay names are)."""
    name = report.get("name") or "hwsim"
    return f"{name}: {what}" if len(name) + len(what) <= 56 else f"{name}\n{what}"


def _si_text(value: float, unit: str) -> str:
    """A bar's value label with its own prefix: ``'904.3 µJ'``."""
    f, u = si_scale([value], unit)
    return f"{value / f:.4g} {u}" if value else "0"


def plot_training(report: dict):
    """Test accuracy (left axis, %) and train/test loss (right axis) per epoch."""
    hist = ((report.get("extra") or {}).get("training") or {}).get("history") or []
    if not hist:
        return None
    fig = _figure(figsize=(6, 3.6))
    ax = fig.subplots()
    epochs = [h["epoch"] for h in hist]
    ax.plot(epochs, [100 * h["test_accuracy"] for h in hist], "o-", color="tab:blue",
            label="test accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy [%]", color="tab:blue")
    ax.set_ylim(0, 100)
    ax.set_xticks(epochs if len(epochs) <= 12 else ax.get_xticks())
    ax.grid(alpha=0.3)
    loss = ax.twinx()
    loss.plot(epochs, [h["train_loss"] for h in hist], "s--", color="tab:orange",
              label="train loss")
    loss.plot(epochs, [h["test_loss"] for h in hist], "^:", color="tab:red", label="test loss")
    loss.set_ylabel("loss (cross-entropy)")
    loss.set_ylim(bottom=0)
    lines = ax.get_lines() + loss.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="center right", fontsize=8)
    algo = report["extra"]["training"].get("algorithm", "")
    ax.set_title(_title(report, f"training curves ({algo})"))
    fig.tight_layout()
    return fig


def _energy_by_phase_kind(report: dict) -> dict:
    table: dict = defaultdict(lambda: defaultdict(float))
    for r in (report.get("energy") or {}).get("rows", []):
        table[r["phase"] or "(none)"][r["kind"]] += r["energy_J"]
    return table


def plot_energy(report: dict):
    """Energy per phase stacked by component kind, and the total per kind."""
    table = _energy_by_phase_kind(report)
    if not table:
        return None
    phases = sorted(table)
    kinds = sorted({k for p in table.values() for k in p})
    per_kind = {k: math.fsum(table[p].get(k, 0.0) for p in phases) for k in kinds}
    factor, unit = si_scale([math.fsum(table[p].values()) for p in phases] +
                            list(per_kind.values()), "J")
    fig = _figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    bottom = [0.0] * len(phases)
    colors = {k: f"C{i % 10}" for i, k in enumerate(kinds)}
    for k in kinds:
        vals = [table[p].get(k, 0.0) / factor for p in phases]
        left.bar(phases, vals, bottom=bottom, label=k, color=colors[k])
        bottom = [b + v for b, v in zip(bottom, vals)]
    left.set_xlabel("phase")
    left.set_ylabel(f"energy [{unit}]")
    left.set_title("energy per phase, by component kind", fontsize=10)
    left.legend(fontsize=7, ncol=2)
    left.grid(axis="y", alpha=0.3)
    order = sorted(kinds, key=lambda k: per_kind[k])
    bars = right.barh(order, [per_kind[k] / factor for k in order],
                      color=[colors[k] for k in order])
    right.bar_label(bars, [_si_text(per_kind[k], "J") for k in order], fontsize=7, padding=2)
    right.set_xlim(0, 1.3 * max(per_kind.values()) / factor)
    right.set_xlabel(f"energy [{unit}]")
    right.set_title("energy per component kind", fontsize=10)
    right.grid(axis="x", alpha=0.3)
    fig.suptitle(_title(report, f"energy, total {report['energy']['total_J'] / factor:.4g} {unit}"))
    fig.tight_layout()
    return fig


def plot_area(report: dict):
    """Area per component kind (horizontal bars, largest on top)."""
    a = report.get("area")
    if not a or not a.get("by_kind_m2"):
        return None
    items = sorted(a["by_kind_m2"].items(), key=lambda kv: kv[1])
    factor, unit = si_scale([v for _, v in items], "m²", square=True)
    fig = _figure(figsize=(6, 0.35 * len(items) + 1.6))
    ax = fig.subplots()
    bars = ax.barh([k for k, _ in items], [v / factor for _, v in items], color="tab:green")
    ax.bar_label(bars, [_area_text(v) for _, v in items], fontsize=7, padding=2)
    ax.set_xlim(0, 1.3 * items[-1][1] / factor)
    ax.set_xlabel(f"area [{unit}]")
    ax.set_title(_title(report, f"area per kind, total {a['total_m2'] / factor:.4g} {unit}"))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_latency(report: dict):
    """Simulated time per phase (bars, labelled with their share of the total time)."""
    lat = report["latency"]
    phases = lat["phases"]
    if not phases:
        return None
    names = sorted(phases, key=lambda p: phases[p]["ticks"])
    factor, unit = si_scale([phases[p]["s"] for p in names] + [lat["total_s"]], "s")
    fig = _figure(figsize=(6, 0.4 * len(names) + 1.8))
    ax = fig.subplots()
    bars = ax.barh(names, [phases[p]["s"] / factor for p in names], color="tab:purple")
    ax.bar_label(bars, [f"{100 * phases[p]['fraction']:.1f} %" for p in names], fontsize=8,
                 padding=2)
    ax.set_xlabel(f"simulated time [{unit}]")
    ax.set_xlim(0, 1.15 * max(phases[p]["s"] for p in names) / factor)
    ax.grid(axis="x", alpha=0.3)
    note = (" — phases overlap (pipelined), shares of the total sum to "
            f"{100 * sum(v['fraction'] for v in phases.values()):.0f} %"
            if overlapping(report) else "")
    ax.set_title(_title(report, f"time per phase, total {lat['total_s'] / factor:.4g} {unit}")
                 + note, fontsize=9 if note else 10)
    fig.tight_layout()
    return fig


def plot_utilization(report: dict, limit: int = MAX_COMPONENTS):
    """Busy time / total time of the ``limit`` busiest components (%)."""
    comps = report["latency"]["components"]
    busy = sorted(((p, v["utilization"]) for p, v in comps.items() if v["busy_ticks"]),
                  key=lambda pv: (pv[1], pv[0]))
    if not busy:
        return None
    shown = busy[-limit:]
    fig = _figure(figsize=(7, 0.28 * len(shown) + 1.6))
    ax = fig.subplots()
    bars = ax.barh([p for p, _ in shown], [100 * u for _, u in shown], color="tab:cyan")
    ax.bar_label(bars, [f"{100 * u:.1f} %" for _, u in shown], fontsize=6, padding=2)
    ax.set_xlabel("utilisation (busy time / total time) [%]")
    ax.set_xlim(0, min(100.0, 1.25 * 100 * shown[-1][1]))
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    more = f", the {len(shown)} busiest of {len(busy)}" if len(busy) > len(shown) else ""
    ax.set_title(_title(report, f"utilisation per component{more}"), fontsize=10)
    fig.tight_layout()
    return fig


#: every picture: file stem -> function
PLOTS = {"training": plot_training, "energy": plot_energy, "area": plot_area,
         "latency": plot_latency, "utilization": plot_utilization}


def write_plots(report: dict, out, dpi: int = 110) -> list[str]:
    """Every picture the report has, as ``out/<name>.png``; the paths written."""
    out = Path(out)
    figs = {name: fn(report) for name, fn in PLOTS.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, fig in figs.items():
            if fig is not None:
                path = out / f"{name}.png"
                fig.savefig(path, dpi=dpi)
                written.append(str(path))
    except OSError as exc:
        raise HwsimError(f"cannot write the plots: {exc}", file=str(out)) from None
    return written
