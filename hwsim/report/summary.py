"""The short report ``hwsim run`` / ``hwsim replay`` print by default (layer 6).

At most :data:`MAX_LINES` lines: what ran; the headline test accuracy (per epoch) next
to a float baseline when one is given; simulated time, energy and area totals with
per-sample figures; time and energy per phase (the time shares sum to 100 %, or are
labelled as overlapping under the pipelined schedule, :func:`~hwsim.report.text.phase_note`);
the components that spent the most energy; area by kind; where the full tables are.
Every table is in :func:`hwsim.report.text.render_text` (``--verbose``, ``report.txt``).
"""
from __future__ import annotations

from hwsim.report.text import phase_note
from hwsim.units import format_si

#: most lines :func:`render_summary` prints
MAX_LINES = 40
#: components listed by energy
TOP_COMPONENTS = 5
#: phases listed (the rest are summed into one line)
TOP_PHASES = 6


def _pct(part: float, total: float) -> str:
    return f"{100.0 * part / total:5.1f} %" if total else "    - "


def _ranked(values: dict, top: int) -> list[tuple[str, float]]:
    """The ``top`` largest entries, and the rest summed as ``(n more)``."""
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    head, rest = items[:top], items[top:]
    if len(rest) == 1:
        head.append(rest[0])
    elif rest:
        head.append((f"({len(rest)} more)", sum(v for _, v in rest)))
    return head


def _rows(pairs, total: float, unit: str) -> list[str]:
    width = max((len(k) for k, _ in pairs), default=0)
    return [f"  {k:<{width}}  {_pct(v, total)}  {format_si(v, unit)}" for k, v in pairs]


def _what(report: dict) -> str:
    tr = (report.get("extra") or {}).get("training")
    trace = (report.get("extra") or {}).get("trace")
    if tr:
        exp = ((report.get("meta") or {}).get("config") or {}).get("experiment") or {}
        ds = (exp.get("workload") or {}).get("dataset", "")
        ds = ds.get("name", "") if isinstance(ds, dict) else ds
        hist = tr.get("history") or []
        samples = f" of {hist[0]['samples']} samples" if hist else ""
        return (f"hwsim run {report.get('name', '')}: {tr['algorithm']} on {ds}, "
                f"{len(hist)} epoch{'s' if len(hist) != 1 else ''}{samples}, seed {(report.get('meta') or {}).get('seed')}")
    if trace:
        h = trace.get("header") or {}
        net = h.get("network", "?")
        net = f"{len(net)} layers" if isinstance(net, list) else net
        return (f"hwsim {report.get('name', '')}: {trace.get('ops_replayed')} ops of "
                f"{h.get('algorithm', '?')} on {net}, batch {h.get('batch', '?')}")
    return f"hwsim report: {report.get('name', '')}"


def _accuracy(report: dict, baseline: dict | None) -> list[str]:
    tr = (report.get("extra") or {}).get("training") or {}
    hist = tr.get("history") or []
    if not hist:
        return []
    accs = [100 * h["test_accuracy"] for h in hist]
    fmt = lambda xs: [f"{a:.1f}" for a in xs]               # noqa: E731
    per = ", ".join(fmt(accs) if len(accs) <= 8 else fmt(accs[:3]) + ["…"] + fmt(accs[-4:]))
    lines = [f"  test accuracy   {accs[-1]:.2f} % after epoch {hist[-1]['epoch']}"
             f"  (by epoch: {per} %)"]
    if baseline and baseline.get("accuracy") is not None:
        lines.append(f"  float baseline  {100 * baseline['accuracy']:.2f} %  "
                     f"({baseline.get('note', 'same network, data, epochs and seed')})")
    elif baseline and baseline.get("note"):
        lines.append(f"  float baseline  {baseline['note']}")
    return lines


def render_summary(report: dict, *, baseline: dict | None = None,
                   full_tables: str = "") -> str:
    """The short report (≤ :data:`MAX_LINES` lines).  ``baseline``: ``{"accuracy": a,
    "note": text}`` of a float run of the same network (or only a ``note``);
    ``full_tables``: where the full tables are (the last line)."""
    lat, en, ar, ps = (report["latency"], report.get("energy"), report.get("area"),
                       report.get("per_sample"))
    lines = [_what(report), *_accuracy(report, baseline)]
    per = f"  ({format_si(ps['latency_s'], 's')} per sample)" if ps else ""
    if lat["total_ticks"] == 0 and en is None:
        lines.append("  simulated time  none: latency and energy were not simulated (run.timing off)")
    else:
        lines.append(f"  simulated time  {format_si(lat['total_s'], 's')}{per}")
    if en is not None:
        extra = [f"{format_si(ps['energy_J'], 'J')} per sample"] if ps and "energy_J" in ps else []
        if report.get("average_power_W") is not None:
            extra.append(f"average power {format_si(report['average_power_W'], 'W')}")
        lines.append(f"  energy          {format_si(en['total_J'], 'J')}"
                     + (f"  ({', '.join(extra)})" if extra else ""))
    mapping = (report.get("extra") or {}).get("mapping")
    if ar is not None:
        tiles = (f"  ({mapping['tiles_used']} of {mapping['tiles_total']} tiles used)"
                 if mapping else "")
        lines.append(f"  area            {ar['total_m2'] * 1e6:.4g} mm^2{tiles}")
    if lat["phases"]:
        lines += ["", f"time per phase ({phase_note(report)})"]
        lines += _rows(_ranked({p: v["s"] for p, v in lat["phases"].items()}, TOP_PHASES),
                       lat["total_s"], "s")
    if en is not None and en["total_J"] > 0:
        lines += ["", "energy per phase (sums to 100 %)"]
        lines += _rows(_ranked(en["by_phase_J"], TOP_PHASES), en["total_J"], "J")
        n = len(en["by_path_J"])
        lines += ["", f"top {min(TOP_COMPONENTS, n)} of {n} components by energy"]
        top = sorted(en["by_path_J"].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_COMPONENTS]
        lines += _rows(top, en["total_J"], "J")
    if ar is not None and ar["total_m2"] > 0:
        kinds = [(k, v) for k, v in _ranked(ar["by_kind_m2"], 4) if v > 0]
        lines += ["", "area by kind: " + ", ".join(
            f"{k} {100 * v / ar['total_m2']:.1f} %" for k, v in kinds)]
    if full_tables:
        lines += ["", full_tables]
    return "\n".join(lines[:MAX_LINES]) + "\n"
