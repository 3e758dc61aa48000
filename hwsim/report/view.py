"""A report as a Python object (layer 6): :class:`Report`, what :func:`hwsim.run` and
:func:`hwsim.replay` return.

It wraps the report dict of :func:`hwsim.report.report.build_report` (the content of
``report.json``; ``report["latency"]`` etc. still work, it is a read-only
:class:`~collections.abc.Mapping`) and names its figures as plain numbers in SI units
(:data:`UNITS`): accuracy per epoch, totals, and breakdowns by component, action,
phase and layer.

Energy by layer: the components of tile ``N`` (paths ``….tileN.…``) belong to the
layer whose array (any role) the mapping placed on tile ``N``; every other component
(digital unit, buffer, interconnect, shared ADC banks) is shared and summed under
:data:`SHARED`.  So ``sum(energy_by_layer.values()) == energy_J``.
"""
from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from pathlib import Path

from hwsim.report import plots
from hwsim.report.files import to_jsonable
from hwsim.report.formats import write_report
from hwsim.report.summary import render_summary
from hwsim.report.text import render_text

#: key of the shared (not per-layer) components in :attr:`Report.energy_by_layer`
SHARED = "(shared)"
#: unit of each figure of a :class:`Report` ("1" = a plain fraction)
UNITS = {
    "accuracy": "1", "final_accuracy": "1", "latency_s": "s", "energy_J": "J",
    "area_m2": "m^2", "power_W": "W", "latency_by_phase": "s", "latency_by_component": "s",
    "energy_by_component": "J", "energy_by_action": "J", "energy_by_phase": "J",
    "energy_by_layer": "J", "area_by_kind": "m^2", "area_by_component": "m^2",
}
_TILE = re.compile(r"(?:^|\.)tile(\d+)(?:\.|$)")


class Report(Mapping):
    """The result of a run or a replay (see the module docstring)."""

    def __init__(self, data: dict, *, out: str | Path | None = None, files=()):
        self._data = data
        #: output directory, when the report was written
        self.out = Path(out) if out is not None else None
        #: paths of the files written (one per report format)
        self.files = tuple(files)

    # --- the report dict -------------------------------------------------------------
    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict:
        """A deep copy of the report as plain JSON types (what ``report.json`` holds)."""
        return to_jsonable(copy.deepcopy(self._data))

    @property
    def units(self) -> dict[str, str]:
        """The unit of each figure and breakdown (:data:`UNITS`)."""
        return dict(UNITS)

    # --- headline figures ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._data.get("name", "")

    @property
    def _training(self) -> dict:
        return (self._data.get("extra") or {}).get("training") or {}

    @property
    def algorithm(self) -> str | None:
        return self._training.get("algorithm")

    @property
    def history(self) -> list[dict]:
        """Per epoch: ``epoch``, ``train_loss``, ``test_loss``, ``test_accuracy``, ``samples``
        (empty for a replay)."""
        return [dict(h) for h in self._training.get("history", [])]

    @property
    def accuracy(self) -> list[float]:
        """Test accuracy after each epoch (fraction 0–1)."""
        return [h["test_accuracy"] for h in self._training.get("history", [])]

    @property
    def final_accuracy(self) -> float | None:
        return self._training.get("final_test_accuracy")

    @property
    def latency_s(self) -> float:
        """Total simulated time."""
        return self._data["latency"]["total_s"]

    @property
    def energy_J(self) -> float | None:
        e = self._data.get("energy")
        return None if e is None else e["total_J"]

    @property
    def area_m2(self) -> float | None:
        a = self._data.get("area")
        return None if a is None else a["total_m2"]

    @property
    def power_W(self) -> float | None:
        return self._data.get("average_power_W")

    @property
    def per_sample(self) -> dict | None:
        """``samples``, ``latency_s``, ``energy_J``, ``samples_per_s``."""
        ps = self._data.get("per_sample")
        return None if ps is None else dict(ps)

    # --- breakdowns ------------------------------------------------------------------
    @property
    def latency_by_phase(self) -> dict[str, float]:
        """Simulated time per phase (forward, backward, update, transfer…)."""
        return {p: v["s"] for p, v in self._data["latency"]["phases"].items()}

    @property
    def latency_by_component(self) -> dict[str, float]:
        """Busy time per component path."""
        return {p: v["busy_s"] for p, v in self._data["latency"]["components"].items()}

    @property
    def utilization(self) -> dict[str, float]:
        """Busy time / total time per component (fraction 0–1)."""
        return {p: v["utilization"] for p, v in self._data["latency"]["components"].items()}

    def _energy(self, key: str) -> dict[str, float]:
        e = self._data.get("energy")
        return {} if e is None else dict(e[key])

    @property
    def energy_by_component(self) -> dict[str, float]:
        return self._energy("by_path_J")

    @property
    def energy_by_action(self) -> dict[str, float]:
        """Energy per ``Kind.action`` (e.g. ``ADC.convert``) over all components."""
        return self._energy("by_action_J")

    @property
    def energy_by_phase(self) -> dict[str, float]:
        return self._energy("by_phase_J")

    @property
    def energy_by_layer(self) -> dict[str, float]:
        """Energy per network layer (its tiles) and :data:`SHARED` (see module docstring)."""
        layers = ((self._data.get("extra") or {}).get("mapping") or {}).get("layers") or {}
        owner = {tile: name for name, roles in layers.items()
                 for tiles in roles.values() for tile in tiles}
        groups: dict[str, list[float]] = {name: [] for name in layers}
        groups[SHARED] = []
        for path, joules in self.energy_by_component.items():
            m = _TILE.search(path)
            groups[owner.get(int(m.group(1)), SHARED) if m else SHARED].append(joules)
        return {k: math.fsum(v) for k, v in groups.items()}

    @property
    def area_by_kind(self) -> dict[str, float]:
        a = self._data.get("area")
        return {} if a is None else dict(a["by_kind_m2"])

    @property
    def area_by_component(self) -> dict[str, float]:
        a = self._data.get("area")
        return {} if a is None else dict(a["by_path_m2"])

    # --- output ----------------------------------------------------------------------
    def to_frame(self, what: str = "energy"):
        """A pandas DataFrame: ``energy`` (one row per priced ledger row: path, kind,
        action, phase, count, price_J, energy_J), ``history`` (one row per epoch),
        ``latency`` (one row per component) or ``area`` (one row per component).
        Needs pandas (not a dependency of hwsim)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Report.to_frame needs pandas: pip install pandas") from None
        d = self._data
        if what == "energy":
            rows = [{k: r[k] for k in ("path", "kind", "action", "phase", "count", "price_J",
                                       "energy_J")} for r in (d.get("energy") or {}).get("rows", [])]
        elif what == "history":
            rows = self.history
        elif what == "latency":
            rows = [{"path": p, **v} for p, v in d["latency"]["components"].items()]
        elif what == "area":
            rows = [{k: r[k] for k in ("path", "kind", "area_m2")}
                    for r in (d.get("area") or {}).get("rows", [])]
        else:
            raise ValueError(f"to_frame: unknown table '{what}' (energy, history, latency, area)")
        return pd.DataFrame(rows)

    def text(self) -> str:
        """Every table of the report (``hwsim run --verbose``, ``report.txt``)."""
        return render_text(self._data)

    def summary(self, baseline: dict | None = None, full_tables: str = "") -> str:
        """The short report ``hwsim run`` prints (≤ 40 lines); ``baseline``:
        ``{"accuracy": a, "note": text}`` of a float run to print beside the accuracy."""
        return render_summary(self._data, baseline=baseline, full_tables=full_tables)

    # --- pictures (matplotlib; each returns a Figure, or None if there is nothing) ----
    def plot_training(self):
        """Test accuracy and train/test loss per epoch."""
        return plots.plot_training(self._data)

    def plot_energy(self):
        """Energy per phase stacked by component kind, and per kind."""
        return plots.plot_energy(self._data)

    def plot_area(self):
        """Area per component kind."""
        return plots.plot_area(self._data)

    def plot_latency(self):
        """Simulated time per phase."""
        return plots.plot_latency(self._data)

    def plot_utilization(self, limit: int = plots.MAX_COMPONENTS):
        """Utilisation of the ``limit`` busiest components."""
        return plots.plot_utilization(self._data, limit)

    def write_plots(self, out) -> list[str]:
        """Every picture as ``out/<name>.png`` (``--plots DIR``); the paths written."""
        return plots.write_plots(self._data, out)

    def write(self, out, formats=None) -> list[str]:
        """Write the report into directory ``out`` in each of ``formats`` (names of
        :data:`hwsim.report.formats.FORMATS`; default report.json and energy.csv)."""
        return write_report(self._data, out, formats)

    def __repr__(self) -> str:
        acc = self.final_accuracy
        e = self.energy_J
        return (f"Report({self.name!r}"
                + (f", accuracy={acc:.4f}" if acc is not None else "")
                + f", latency={self.latency_s:.4g} s"
                + (f", energy={e:.4g} J" if e is not None else "") + ")")
