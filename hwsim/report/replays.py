"""The report of a trace replay (layer 6): ``hwsim replay ARCH.yaml TRACE``.

:func:`hwsim.trace.replay.run_trace` executes a trace's ops on an accelerator
(layer 5); this module prices the resulting ledger with the technology table,
sums the areas and builds the same report structure as a training run.
Output files appear only when the whole replay succeeded (temporary files renamed
into place).
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from hwsim.energy import TechnologyTable, area_report, estimate
from hwsim.errors import HwsimError
from hwsim.report.files import write_csv, write_json
from hwsim.report.report import build_report
from hwsim.report.text import render_text
from hwsim.report.timeline import write_timelines
from hwsim.trace.replay import load_accelerator_ref, run_trace


def replay(accelerator_cfg, trace_path, *, progress: bool = True, cache: bool = True,
           overrides: dict | None = None, timeline_path=None, vcd_path=None) -> dict:
    """Replay ``trace_path`` on an accelerator (config object or YAML path); the report dict.
    ``timeline_path`` / ``vcd_path``: also write the Chrome-trace / VCD timelines."""
    acc = load_accelerator_ref(accelerator_cfg, overrides)
    t_wall = time.perf_counter()
    hw, reader = run_trace(acc, trace_path, progress=progress, cache=cache,
                           timeline=bool(timeline_path or vcd_path))
    wall = time.perf_counter() - t_wall
    if timeline_path or vcd_path:
        write_timelines(hw, timeline_path, vcd_path)
    table = TechnologyTable.load(acc.technology,
                                 base_dir=os.path.dirname(acc.file) if acc.file else None)
    stats = {}
    for p, c in hw.machine.components.items():
        stats[p] = {k: {"value": v, "unit": c.stats.specs[k].unit, "desc": c.stats.specs[k].desc}
                    for k, v in c.stats.values.items()}
    header = reader.header
    extra = {"trace": {"file": reader.file, "header": header, "footer": reader.footer,
                       "ops_replayed": hw.ops_executed, "replay_wall_s": wall,
                       "op_cache": hw.memo_stats()},
             "mapping": {"tiles_used": hw.mapping.tiles_used,
                         "tiles_total": hw.mapping.tiles_total,
                         "utilization": {str(k): v for k, v in hw.mapping.utilization().items()}}}
    config = {"accelerator": dataclasses.asdict(acc),
              "trace": {k: header[k] for k in ("network", "batch", "algorithm", "roles",
                                                "source")}}
    return build_report(total_ticks=hw.now, phase_ticks=hw.phase_ticks, component_stats=stats,
                        energy=estimate(hw.machine.ledger, table),
                        area=area_report(hw.machine.components, table),
                        samples=hw.samples or None, config=config, seed=header.get("seed"),
                        backend="replay", name=f"replay {Path(reader.file).name} on {acc.name}",
                        extra=extra)


def _write_atomic(out: Path, report: dict) -> list:
    """report.json and energy.csv, each via a temporary file renamed into place."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, writer in (("report.json", write_json), ("energy.csv", write_csv)):
        tmp = out / f".{name}.partial"
        writer(report, tmp)
        written.append((tmp, out / name))
    for tmp, final in written:
        os.replace(tmp, final)
    return [str(f) for _, f in written]


def replay_cli(args) -> int:
    """``hwsim replay ARCH.yaml TRACE [-o OUT] [--set K=V] [--no-progress] [--no-cache]``."""
    from hwsim.config.overrides import parse_set_args
    overrides = parse_set_args(getattr(args, "set", None) or [])
    report = replay(args.accelerator, args.trace, progress=not args.no_progress,
                    cache=not args.no_cache, overrides=overrides,
                    timeline_path=getattr(args, "timeline", None), vcd_path=getattr(args, "vcd", None))
    out = Path(args.out) if args.out else Path("runs") / f"replay-{_stem(args.trace)}"
    try:
        files = _write_atomic(out, report)
    except OSError as exc:
        raise HwsimError(f"cannot write the replay report: {exc}", file=str(out)) from None
    print(render_text(report))
    c = report["extra"]["trace"]["op_cache"]
    print(f"replayed {report['extra']['trace']['ops_replayed']} ops in "
          f"{report['extra']['trace']['replay_wall_s']:.2f} s (op cache: {c['hits']} hits, "
          f"{c['misses']} simulated)")
    print(f"wrote {' and '.join(files)}")
    return 0


def _stem(path) -> str:
    name = Path(path).name
    for ext in (".jsonl.gz", ".gz", ".jsonl"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return Path(name).stem
