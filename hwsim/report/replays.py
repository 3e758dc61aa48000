"""The report of a trace replay (layer 6).

:func:`hwsim.trace.replay.run_trace` executes a trace's ops on an accelerator
(layer 5; :func:`hwsim.api.replay` calls it); :func:`replay_report` prices the
resulting ledger with the technology table, sums the areas and builds the same report
structure as a training run.  This module only reads what the replay left behind.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hwsim.energy import TechnologyTable, area_report, estimate, node_energy
from hwsim.report.nodes import node_table
from hwsim.report.report import build_report
from hwsim.report.runs import mapping_section


def replay_report(acc, hw, reader, wall_s: float | None = None) -> dict:
    """The report dict of a finished replay: ``acc`` the accelerator config, ``hw`` /
    ``reader`` what :func:`~hwsim.trace.replay.run_trace` returned,
    ``wall_s`` the replay's wall time (recorded in ``extra.trace``)."""
    table = TechnologyTable.load(acc.technology,
                                 base_dir=os.path.dirname(acc.file) if acc.file else None)
    stats = {}
    for p, c in hw.machine.components.items():
        stats[p] = {k: {"value": v, "unit": c.stats.specs[k].unit, "desc": c.stats.specs[k].desc}
                    for k, v in c.stats.values.items()}
    header = reader.header
    extra = {"trace": {"file": reader.file, "header": header, "footer": reader.footer,
                       "ops_replayed": hw.ops_executed, "replay_wall_s": wall_s,
                       "op_cache": hw.memo_stats()},
             "mapping": mapping_section(hw.mapping)}
    config = {"accelerator": dataclasses.asdict(acc),
              "trace": {k: header[k] for k in ("network", "batch", "algorithm", "roles",
                                                "source")}}
    return build_report(total_ticks=hw.now, phase_ticks=hw.phase_ticks, component_stats=stats,
                        energy=estimate(hw.machine.ledger, table, hw.machine.components,
                                        hw.now * 1e-12),
                        area=area_report(hw.machine.components, table),
                        samples=hw.samples or None, config=config, seed=header.get("seed"),
                        backend="replay", name=f"replay {Path(reader.file).name} on {acc.name}",
                        extra=extra, nodes=node_table(hw.node_ticks, node_energy(
                            hw.machine.ledger.node_rows(), table)))
