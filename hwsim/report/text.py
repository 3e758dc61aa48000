"""Readable text rendering of a report dict (layer 6).

:func:`render_text` prints every table (``hwsim run --verbose``, ``report.txt``):
summary (total time, energy, average power, area, per-sample figures), time per
phase, component busy time and utilization, energy per component, per action and per
phase (with shares of the total), energy per (component, action) with the quantity
that was priced, area per kind, what the totals leave out ("not priced": areas not
modelled, actions priced at 0 J, with the table's reason; a total that leaves something
out says PARTIAL), and the meta data (table, seed, backend, versions).
The short summary that ``hwsim run`` prints by default is
:func:`hwsim.report.summary.render_summary`.  Quantities print with SI prefixes
(:func:`hwsim.units.format_si`).

A priced quantity is a count of actions except where an action is value-dependent
(``Tile.read_cell``: Σ ĝ·v̂² energy units of the MVMs); such rows are listed under the
table with the action's own description (from the component registry), so a
fractional number is never called a count.
"""
from __future__ import annotations

from hwsim.core import kinds
from hwsim.units import format_si


def _table(title: str, header: tuple, rows: list) -> list[str]:
    if not rows:
        return []
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    fmt = lambda r: "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                     for i, (c, w) in enumerate(zip(r, widths)))
    out = ["", title, fmt(cells[0]), "  " + "  ".join("-" * w for w in widths)]
    out += [fmt(r) for r in cells[1:]]
    return out


def _pct(part: float, total: float) -> str:
    return f"{100.0 * part / total:.1f} %" if total else "-"


def _what(u: dict) -> str:
    return f"{u['kind']} area" if u["action"] == "area" else f"{u['kind']}.{u['action']}"


def _partial(section: dict) -> str:
    """`` PARTIAL: not modelled: …`` after a total that leaves something out."""
    if not section.get("partial"):
        return ""
    missing = [_what(u) for u in section.get("unpriced", []) if u["status"] == "not modelled"]
    return "  PARTIAL, not modelled: " + ", ".join(missing)


def _unpriced_lines(unpriced: list) -> list[str]:
    """One line per unpriced (kind, action): ``not modelled: ADC area (hermes_cco table)``."""
    if not unpriced:
        return []
    out = ["", "not priced (left out of the totals, or counted elsewhere as the table says)"]
    for u in unpriced:
        n = (f"{u['components']} component{'s' if u['components'] != 1 else ''}"
             + (f", {u['count']:.6g} actions" if "count" in u else ""))
        why = u.get("reason") or u["source"]
        src = why if len(why) <= 110 else why[:109] + "…"
        out.append(f"  {u['status']}: {_what(u)} ({u['table']} table), {n}: {src}")
    return out


def _quantity(q: float) -> str:
    """A count as an integer; a value-dependent quantity with 6 significant digits."""
    return str(int(q)) if float(q).is_integer() else f"{q:.6g}"


def phase_note(report: dict) -> str:
    """How the phase shares add up: to 100 % of the time (sequential), or to more when
    phases overlap (the layer-pipelined schedule runs ops of different phases at once)."""
    lat = report["latency"]
    total = sum(v["ticks"] for v in lat["phases"].values())
    if total <= lat["total_ticks"]:
        return "shares of the total time; they sum to 100 %" if total == lat["total_ticks"] \
            else f"shares of the total time; {_pct(lat['total_ticks'] - total, lat['total_ticks'])} in no phase"
    return (f"phases OVERLAP under the pipelined schedule: shares of the total time, "
            f"they sum to {_pct(total, lat['total_ticks'])}")


def non_counts(energy: dict) -> dict[str, str]:
    """``{Kind.action: description}`` of the actions whose priced quantity is not a count
    (any row with a fractional quantity); the description is the component's own."""
    out = {}
    for r in energy.get("by_path_action", []) + energy.get("rows", []):
        if not float(r["count"]).is_integer():
            kind = r.get("kind", "")
            cls = kinds().get(kind)
            out[f"{kind}.{r['action']}"] = (getattr(cls, "ACTIONS", {}).get(r["action"])
                                            or "value-dependent quantity")
    return dict(sorted(out.items()))


def render_text(report: dict) -> str:
    """The report as aligned text tables; totals are always printed."""
    lat, en, ar, ps = report["latency"], report.get("energy"), report.get("area"), \
        report.get("per_sample")
    lines = [f"hwsim report{': ' + report['name'] if report.get('name') else ''}",
             f"  total time      {format_si(lat['total_s'], 's')}  ({lat['total_ticks']} ticks of 1 ps)"]
    if en is not None:
        lines.append(f"  total energy    {format_si(en['total_J'], 'J')}  (table {en['table']})"
                     + _partial(en))
        if en.get("static_J") is not None:
            lines.append(f"    dynamic       {format_si(en['dynamic_J'], 'J')}, static "
                         f"{format_si(en['static_J'], 'J')} "
                         f"({format_si(en['static_power_W'], 'W')} x total time)")
    if report.get("average_power_W") is not None:
        lines.append(f"  average power   {format_si(report['average_power_W'], 'W')}")
    if ar is not None:
        lines.append(f"  total area      {format_si(ar['total_m2'], 'm^2')}" + _partial(ar))
    if ps:
        lines.append(f"  per sample      {format_si(ps['latency_s'], 's')}"
                     + (f", {format_si(ps['energy_J'], 'J')}" if "energy_J" in ps else "")
                     + f"  ({ps['samples']} samples)")
    tr = (report.get("extra") or {}).get("training")
    if tr:
        final = tr.get("final_test_accuracy")
        lines.append(f"  algorithm       {tr['algorithm']}"
                     + (f", final test accuracy {100 * final:.2f} %" if final is not None else ""))
        lines += _table("training", ("epoch", "train loss", "test loss", "test accuracy"),
                        [(h["epoch"], f"{h['train_loss']:.4f}", f"{h['test_loss']:.4f}",
                          f"{100 * h['test_accuracy']:.2f} %") for h in tr.get("history", [])])
    total = lat["total_ticks"]
    lines += _table(f"time per phase ({phase_note(report)})" if lat["phases"] else "",
                    ("phase", "time", "share"),
                    [(p, format_si(v["s"], "s"), _pct(v["ticks"], total))
                     for p, v in lat["phases"].items()])
    active = {p: v for p, v in lat["components"].items() if v["items"]}
    idle = len(lat["components"]) - len(active)
    lines += _table("components" + (f" ({idle} idle not shown)" if idle else ""),
                    ("path", "busy", "utilization", "items", "waited"),
                    [(p, format_si(v["busy_s"], "s"), f"{100 * v['utilization']:.1f} %", v["items"],
                      format_si(v["wait_ticks"] * 1e-12, "s"))
                     for p, v in active.items()])
    if en is not None:
        t = en["total_J"]
        lines += _table("energy per component", ("path", "energy", "share"),
                        [(p, format_si(v, "J"), _pct(v, t)) for p, v in en["by_path_J"].items()]
                        + [("TOTAL", format_si(t, "J"), _pct(t, t))])
        lines += _table("energy per action", ("action", "energy", "share"),
                        [(a, format_si(v, "J"), _pct(v, t)) for a, v in en["by_action_J"].items()])
        lines += _table("energy per phase", ("phase", "energy", "share"),
                        [(p, format_si(v, "J"), _pct(v, t)) for p, v in en["by_phase_J"].items()])
        lines += _table("energy per (component, action): quantity × unit price",
                        ("path", "action", "quantity", "unit price", "energy"),
                        [(r["path"], r["action"], _quantity(r["count"]),
                          format_si(r["price_J"], "J"), format_si(r["energy_J"], "J"))
                         for r in en["by_path_action"]])
        odd = non_counts(en)
        if odd:
            lines.append("  quantity = number of actions, except (not counts):")
            lines += [f"    {a}: {d}" for a, d in odd.items()]
    if ar is not None:
        lines += _table("area per kind", ("kind", "area", "share"),
                        [(k, format_si(v, "m^2") if v else "not modelled", _pct(v, ar["total_m2"]))
                         for k, v in ar["by_kind_m2"].items()]
                        + [("TOTAL (partial)" if ar.get("partial") else "TOTAL",
                           format_si(ar["total_m2"], "m^2"), "100.0 %")])
    nodes = report.get("nodes")
    if nodes and nodes.get("rows"):
        parts = [c["name"][:-2] for c in nodes["columns"] if c["name"].endswith("_s")
                 and c["name"] != "total_s"]
        lines += _table("time and energy per node (" + ", ".join(parts) + ")",
                        ("node", *(f"{p} time" for p in parts), *(f"{p} energy" for p in parts)),
                        [(r["node"], *(format_si(r[f"{p}_s"], "s") for p in parts),
                          *(format_si(r[f"{p}_J"], "J") for p in parts))
                         for r in nodes["rows"]])
    lines += _unpriced_lines((en or {}).get("unpriced", []) + (ar or {}).get("unpriced", []))
    meta = report.get("meta") or {}
    v = meta.get("versions") or {}
    lines += ["", f"seed {meta.get('seed')}, backend {meta.get('backend')}, "
              + ", ".join(f"{k} {v[k]}" for k in sorted(v))]
    return "\n".join(lines) + "\n"
