"""The report of a training run (layer 6): run result -> report dict and files.

Reads a :class:`hwsim.training.runner.RunResult` (duck-typed: ``cfg``, ``prep``,
``hw``, ``timing``, ``history``, ``out``, ``drift``), prices its action ledger with
the accelerator's technology table (``E = Σ count × price``), sums the component
areas, and builds the report with :func:`hwsim.report.report.build_report`.
"""
from __future__ import annotations

import dataclasses
import os

from hwsim.energy import TechnologyTable, area_report, estimate, node_energy
from hwsim.report.formats import write_report
from hwsim.report.nodes import node_table
from hwsim.report.report import build_report
from hwsim.report.timeline import write_timelines


def _config(result) -> dict:
    prep = result.prep
    return {"experiment": dataclasses.asdict(result.cfg),
            "accelerator": dataclasses.asdict(prep.accelerator),
            "device": dataclasses.asdict(prep.context.device)}


def mapping_section(mapping) -> dict:
    """Tiles used/total, the cell utilisation of each used tile, and which tiles hold each
    layer's arrays (``layers[name][role] = [tile, ...]``)."""
    return {"tiles_used": mapping.tiles_used, "tiles_total": mapping.tiles_total,
            "utilization": {str(k): v for k, v in mapping.utilization().items()},
            "layers": {name: {role: [s.tile for s in slots] for role, slots in lm.arrays.items()}
                       for name, lm in mapping.layers.items()}}


def run_report(result) -> dict:
    cfg, prep, hw, history = result.cfg, result.prep, result.hw, result.history
    training = {"algorithm": cfg.training.algorithm, "history": history,
                "final_test_accuracy": history[-1]["test_accuracy"] if history else None,
                "algorithm_stats": prep.algorithm.stats()}
    if result.drift is not None:
        training["drift"] = result.drift
    extra = {"training": training}
    samples = sum(h["samples"] for h in history)
    common = dict(samples=samples, config=_config(result), seed=cfg.run.seed,
                  backend=cfg.run.backend, name=cfg.name)
    if hw is None:
        return build_report(total_ticks=0, extra=extra, **common)
    acc = prep.accelerator
    table = TechnologyTable.load(acc.technology,
                                 base_dir=os.path.dirname(acc.file) if acc.file else None)
    t = result.timing
    stats = {p: {k: {"value": v} for k, v in vals.items()} for p, vals in t["stats"].items()}
    for p, c in hw.machine.components.items():
        for k, spec in c.stats.specs.items():
            stats[p].setdefault(k, {"value": 0}).update(unit=spec.unit, desc=spec.desc)
    extra["mapping"] = mapping_section(hw.mapping)
    return build_report(total_ticks=t["ticks"], phase_ticks=t["phase_ticks"],
                        component_stats=stats,
                        energy=estimate(hw.machine.ledger, table, hw.machine.components,
                                        t["ticks"] * 1e-12),
                        area=area_report(hw.machine.components, table), extra=extra,
                        nodes=node_table(t.get("node_ticks", hw.node_ticks),
                                         node_energy(hw.machine.ledger.node_rows(), table)),
                        **common)


def write_run_outputs(report: dict, result, *, timeline=None, vcd=None,
                      formats=None) -> list[str]:
    """The report in each of ``formats`` (default: report.json, energy.csv) in the run's
    output directory, and the timelines when asked for."""
    written = write_report(report, result.out, formats)
    if (timeline or vcd) and result.hw is not None:
        written += write_timelines(result.hw, timeline, vcd)
    return written
