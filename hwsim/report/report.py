"""The run report as a plain dict (layer 6).

:func:`build_report` combines what a run produced — total simulated ticks (1 tick =
1 ps), per-phase time, per-component statistics, an energy report and an area
report — into one JSON-ready dict::

    latency.total_s            = total_ticks · 10⁻¹²
    latency.components[p].utilization = min(1, busy_ticks_p / total_ticks)
    per_sample.energy_J        = E_total / samples
    per_sample.latency_s       = t_total / samples
    per_sample.samples_per_s   = samples / t_total

(``busy_ticks`` is the time a component accepted items, :mod:`hwsim.core.stats`; the
last initiation interval of a stage may end after the run, hence the ``min``.)  It
also embeds ``meta``: the resolved configuration, the seed, the kernel backend and
the versions of python/numpy/simpy/cython/hwsim, so a result can be re-run
(DESIGN.md, "Files users write").  The report layer only reads: it takes plain
objects and dicts and imports neither :mod:`hwsim.sim` nor :mod:`hwsim.elaborate`.
"""
from __future__ import annotations

import dataclasses
import platform
from importlib import metadata

from hwsim.version import __version__

TICKS_PER_SECOND = 10**12


def package_versions() -> dict:
    """Versions of the packages a result depends on ('not installed' when absent);
    ``cython`` is the Cython that compiled the installed kernels."""
    out = {"python": platform.python_version(), "hwsim": __version__}
    for name, dist in (("numpy", "numpy"), ("simpy", "simpy")):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        from hwsim._ext.quantize import BUILT_WITH_CYTHON
        out["cython"] = BUILT_WITH_CYTHON
    except ImportError:
        out["cython"] = "kernels not built"
    return out


def _stat_values(stats) -> dict:
    """Plain ``{name: number}`` from a Stats object, a component, ``Stats.as_dict()`` or a dict."""
    if not isinstance(stats, dict):
        stats = getattr(stats, "stats", stats)      # a component
    if not isinstance(stats, dict):
        stats = getattr(stats, "values", None)      # a Stats object
    if not isinstance(stats, dict):
        raise TypeError("component statistics must be a mapping, a Stats object or a component")
    return {k: (v["value"] if isinstance(v, dict) else v) for k, v in dict(stats).items()}


def latency_section(total_ticks: int, phase_ticks: dict | None = None,
                    component_stats: dict | None = None) -> dict:
    """Total and per-phase time, per-component busy time and utilization."""
    if total_ticks < 0:
        raise ValueError(f"total_ticks must be >= 0, got {total_ticks}")
    total = int(total_ticks)
    comps = {}
    for path, stats in sorted((component_stats or {}).items()):
        v = _stat_values(stats)
        busy = int(v.get("busy_ticks", 0))
        comps[path] = {
            "busy_ticks": busy, "busy_s": busy / TICKS_PER_SECOND,
            "wait_ticks": int(v.get("wait_ticks", 0)),
            "items": v.get("items", 0), "transactions": v.get("transactions", 0),
            "utilization": min(1.0, busy / total) if total > 0 else 0.0,
        }
    phases = {p: {"ticks": int(t), "s": int(t) / TICKS_PER_SECOND,
                  "fraction": (int(t) / total if total > 0 else 0.0)}
              for p, t in sorted((phase_ticks or {}).items())}
    return {"total_ticks": total, "total_s": total / TICKS_PER_SECOND, "phases": phases,
            "components": comps}


def _plain(config):
    if config is None:
        return None
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    return config


def build_report(*, total_ticks: int, phase_ticks: dict | None = None,
                 component_stats: dict | None = None, energy=None, area=None,
                 samples: int | None = None, config=None, seed=None, backend: str | None = None,
                 name: str = "", extra: dict | None = None, nodes: dict | None = None) -> dict:
    """The whole report as a plain dict (see module docstring).

    ``energy`` is an :class:`~hwsim.energy.EnergyReport` (or its ``to_dict()``),
    ``area`` an :class:`~hwsim.energy.AreaReport` (or its dict), ``component_stats``
    maps component path -> Stats / component / ``{name: value}``, ``nodes`` the
    per-node table (:func:`hwsim.report.nodes.node_table`).
    """
    lat = latency_section(total_ticks, phase_ticks, component_stats)
    e = energy.to_dict() if hasattr(energy, "to_dict") else energy
    a = area.to_dict() if hasattr(area, "to_dict") else area
    out = {"name": name, "latency": lat, "energy": e, "area": a, "per_sample": None,
           "meta": {"config": _plain(config), "seed": seed, "backend": backend,
                    "versions": package_versions()}}
    if e is not None and lat["total_s"] > 0:
        out["average_power_W"] = e["total_J"] / lat["total_s"]
    if samples is not None:
        if samples <= 0:
            raise ValueError(f"samples must be > 0, got {samples}")
        ps = {"samples": int(samples), "latency_s": lat["total_s"] / samples,
              "samples_per_s": (samples / lat["total_s"]) if lat["total_s"] > 0 else None}
        if e is not None:
            ps["energy_J"] = e["total_J"] / samples
        out["per_sample"] = ps
    if nodes is not None:
        out["nodes"] = nodes
    if extra:
        out["extra"] = dict(extra)
    return out
