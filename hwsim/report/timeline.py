"""Timelines of a run (layer 6): Chrome trace events (Perfetto) and VCD busy signals.

Each component that recorded its busy intervals ``(start, end, op, layer, phase)``
(ticks of 1 ps; see :class:`hwsim.core.component.Component`) becomes one track:

* Chrome trace-event JSON: one complete event (``"ph": "X"``) per interval, with
  ``ts``/``dur`` in microseconds as the format requires (1 tick = 10⁻⁶ µs);
* VCD: one 1-bit ``busy`` wire per component, timescale 1 ps, rising at ``start``
  and falling at ``end`` (overlapping intervals merge).
"""
from __future__ import annotations

import json


def _tracks(components: dict) -> dict:
    return {p: c.timeline for p, c in sorted(components.items()) if getattr(c, "timeline", None)}


def chrome_trace(components: dict) -> dict:
    events = []
    for tid, (path, intervals) in enumerate(_tracks(components).items(), start=1):
        events.append({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid,
                       "args": {"name": path}})
        for start, end, op, layer, phase in intervals:
            events.append({"ph": "X", "pid": 1, "tid": tid, "name": op, "cat": phase,
                           "ts": start / 1e6, "dur": max(end - start, 0) / 1e6,
                           "args": {"layer": layer, "start_ps": start, "end_ps": end}})
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def merged_busy(intervals) -> list[tuple[int, int]]:
    """Union of [start, end) intervals, sorted."""
    out: list[list[int]] = []
    for s, e in sorted((i[0], i[1]) for i in intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _vcd_id(i: int) -> str:
    chars = "".join(chr(c) for c in range(33, 127))
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, len(chars))
        s = chars[r] + s
    return s


def vcd_text(components: dict) -> str:
    tracks = _tracks(components)
    ids = {p: _vcd_id(i) for i, p in enumerate(tracks)}
    head = ["$timescale 1ps $end", "$scope module chip $end"]
    head += [f"$var wire 1 {ids[p]} {p.replace('.', '_')}_busy $end" for p in tracks]
    head += ["$upscope $end", "$enddefinitions $end", "#0", "$dumpvars"]
    head += [f"0{ids[p]}" for p in tracks] + ["$end"]
    changes: dict[int, list[str]] = {}
    for p, intervals in tracks.items():
        for s, e in merged_busy(intervals):
            changes.setdefault(s, []).append(f"1{ids[p]}")
            changes.setdefault(e, []).append(f"0{ids[p]}")
    body = []
    for t in sorted(changes):
        # a falling and a rising edge at the same tick of one signal cancel out
        vals: dict[str, str] = {}
        for v in changes[t]:
            sig = v[1:]
            vals[sig] = "x" if sig in vals and vals[sig] != v[0] else v[0]
        body.append(f"#{t}")
        body += [f"{v}{sig}" for sig, v in vals.items() if v != "x"]
    return "\n".join(head + body) + "\n"


def write_timelines(hw, timeline_path=None, vcd_path=None) -> list[str]:
    comps = hw.machine.components
    written = []
    if timeline_path:
        with open(timeline_path, "w", encoding="utf-8") as fh:
            json.dump(chrome_trace(comps), fh)
        written.append(str(timeline_path))
    if vcd_path:
        with open(vcd_path, "w", encoding="utf-8") as fh:
            fh.write(vcd_text(comps))
        written.append(str(vcd_path))
    return written
