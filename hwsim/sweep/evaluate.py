"""One design point: base configuration + the point's keys -> configs -> report -> metrics (layer 6).

A point is a mapping of dotted keys to values.  Keys that start with
``experiment.`` set the experiment file (``experiment.training.algorithm``); every
other key sets the accelerator (``tile.rows``, ``tile.periphery.adc.bits``,
``device``).  The base's fixed ``set`` overrides are applied first, then the point's.

* **trace base** — the accelerator is built and the trace is replayed on it
  (:func:`hwsim.trace.replay.run_trace`, priced by
  :func:`hwsim.report.replays.replay_report`); replay is deterministic, the point's seed is
  recorded but unused.
* **experiment base** — the accelerator is inlined into the experiment, whose
  ``run.seed`` becomes the point's seed (unless the point sets it), ``run.out`` the
  point's directory ``<out>/points/<id>``, and progress bars and checkpoints are
  switched off; :func:`hwsim.training.runner.run_experiment` trains and simulates
  and the run's report (``report.json``, ``energy.csv``) is written there.

:func:`evaluate_point` is what a worker process (or a Dask worker) runs: it never
raises; a failure becomes a record with ``status: failed`` and the error text.
"""
from __future__ import annotations

import copy
import math
import os
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field

from hwsim.errors import ConfigError, HwsimError

EXPERIMENT_PREFIX = "experiment."

#: Metrics a finished point reports: name -> (unit, description).  Objectives and
#: constraints name these.
METRICS = {
    "energy_per_sample": ("J", "energy per training sample (total energy / samples)"),
    "latency_per_sample": ("s", "simulated time per training sample"),
    "throughput": ("samples/s", "training samples per simulated second"),
    "area": ("m^2", "chip area (sum over components)"),
    "area_mm2": ("mm^2", "chip area in mm²"),
    "energy_total": ("J", "total energy of the run or trace"),
    "latency_total": ("s", "total simulated time"),
    "power": ("W", "average power = energy_total / latency_total"),
    "accuracy": ("1", "final test accuracy (experiment base only)"),
}


@dataclass(frozen=True)
class Base:
    """What every point starts from (absolute paths, so that any worker can load them)."""
    accelerator: str = ""            # accelerator YAML; "" = the experiment's own
    trace: str = ""                  # trace to replay, or
    experiment: str = ""             # experiment to train
    set: dict = field(default_factory=dict)   # fixed overrides for every point

    @property
    def mode(self) -> str:
        return "trace" if self.trace else "experiment"


def split_keys(params: dict) -> tuple[dict, dict]:
    """(accelerator overrides, experiment overrides) of a point."""
    acc, exp = {}, {}
    for k, v in params.items():
        if k.startswith(EXPERIMENT_PREFIX):
            exp[k[len(EXPERIMENT_PREFIX):]] = v
        else:
            acc[k] = v
    return acc, exp


_YAML_CACHE: dict = {}


def _yaml(path: str):
    """A fresh (deep) copy of a YAML file's line-tracking data; parsed once per process
    and file version, because the same base is read for every point."""
    from hwsim.config.yamlio import load_yaml
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    if key not in _YAML_CACHE:
        _YAML_CACHE[key] = load_yaml(path)
    return copy.deepcopy(_YAML_CACHE[key])


def accelerator_path(base: Base) -> str | None:
    """The accelerator file of the base (None: inline in the experiment)."""
    if base.accelerator:
        return base.accelerator
    from hwsim.config.experiment import resolve_path
    ref = _yaml(base.experiment).get("accelerator", "accelerators/cttv2_tile.yaml")
    if isinstance(ref, dict):
        return None                                  # inline in the experiment
    return resolve_path(ref, base.experiment, "accelerators")


def _absolute_refs(data: dict, path: str) -> dict:
    """Device/technology file references relative to the accelerator file made absolute,
    so that the accelerator can be inlined into an experiment in another directory."""
    here = os.path.dirname(os.path.abspath(path))
    for key in ("device", "technology"):
        v = data.get(key)
        if isinstance(v, str) and ("/" in v or v.endswith((".yaml", ".yml"))) \
                and not os.path.isabs(v) and os.path.isfile(os.path.join(here, v)):
            data[key] = os.path.join(here, v)
    return data


def point_configs(base: Base, params: dict, seed: int | None = None, out: str | None = None):
    """The validated configs of one point: ``(AcceleratorConfig, ExperimentConfig | None)``.

    Raises :class:`ConfigError` (from the accelerator or experiment file) when a key
    does not exist or a value is invalid.
    """
    from hwsim.config.accelerator import accelerator_from_data
    from hwsim.config.overrides import apply_overrides
    fixed_acc, fixed_exp = split_keys(base.set)
    acc_over, exp_over = split_keys(params)
    if base.mode == "trace" and (fixed_exp or exp_over):
        key = next(iter(fixed_exp or exp_over))
        raise ConfigError("a trace sweep has no experiment to set", key=EXPERIMENT_PREFIX + key)
    acc_path = accelerator_path(base)
    if acc_path is not None:
        acc_data = _yaml(acc_path)
    else:
        acc_data = _yaml(base.experiment)["accelerator"]
        acc_path = base.experiment
    apply_overrides(acc_data, {**fixed_acc, **acc_over}, acc_path)
    acc_cfg = accelerator_from_data(acc_data, acc_path)
    if base.mode == "trace":
        return acc_cfg, None
    from hwsim.config.experiment import load_experiment
    exp_over = {**fixed_exp, **exp_over}
    run = {"run.progress": False, "run.checkpoint": False}
    if seed is not None and "run.seed" not in exp_over:
        run["run.seed"] = int(seed)
    if out is not None:
        run["run.out"] = out
    over = {"accelerator": _absolute_refs(acc_data, acc_path), **exp_over, **run}
    return acc_cfg, load_experiment(base.experiment, over)


def check_references(acc_cfg, exp_cfg, memo: set) -> None:
    """Resolve what the configs only name: the device and technology presets or files
    and the algorithm's hyperparameters (each distinct value once, remembered in ``memo``)."""
    from hwsim.devices import load_device
    from hwsim.config.params import build_section
    base_dir = os.path.dirname(acc_cfg.file) if acc_cfg.file else None
    dev = ("device", repr(acc_cfg.device), base_dir)
    if dev not in memo:
        load_device(acc_cfg.device, base_dir=base_dir)
        memo.add(dev)
    tech = ("technology", acc_cfg.technology, base_dir)
    if tech not in memo:
        from hwsim.energy import TechnologyTable
        TechnologyTable.load(acc_cfg.technology, base_dir=base_dir)
        memo.add(tech)
    if exp_cfg is not None:
        algo = ("algorithm", exp_cfg.training.algorithm, repr(exp_cfg.training.params))
        if algo not in memo:
            from hwsim.training.algorithms import ALGORITHMS
            cls = ALGORITHMS.get(exp_cfg.training.algorithm)
            if cls is None:
                raise ConfigError(f"algorithm '{exp_cfg.training.algorithm}' is not implemented "
                                  f"(available: {', '.join(sorted(ALGORITHMS))})",
                                  key="training.algorithm")
            build_section(cls.Params, exp_cfg.training.params, "training.params")
            memo.add(algo)


def summarize(report: dict) -> tuple[dict, dict]:
    """``(metrics, breakdown)`` of a report; breakdowns are per sample (J, s)."""
    ps = report.get("per_sample") or {}
    energy = report.get("energy") or {}
    area = report.get("area") or {}
    lat = report.get("latency") or {}
    samples = ps.get("samples") or None
    acc = ((report.get("extra") or {}).get("training") or {}).get("final_test_accuracy")
    area_m2 = area.get("total_m2")
    metrics = {
        "energy_per_sample": ps.get("energy_J"), "latency_per_sample": ps.get("latency_s"),
        "throughput": ps.get("samples_per_s"), "area": area_m2,
        "area_mm2": area_m2 * 1e6 if area_m2 is not None else None,
        "energy_total": energy.get("total_J"), "latency_total": lat.get("total_s"),
        "power": report.get("average_power_W"), "accuracy": acc,
    }
    metrics = {k: (float(v) if v is not None and math.isfinite(float(v)) else None)
               for k, v in metrics.items()}
    per = 1.0 / samples if samples else 1.0
    by_kind = defaultdict(float)
    for row in energy.get("rows", ()):
        by_kind[row["kind"]] += row["energy_J"]
    breakdown = {
        "per": "sample" if samples else "run",
        "energy_by_kind_J": {k: v * per for k, v in sorted(by_kind.items())},
        "energy_by_action_J": {k: v * per for k, v in (energy.get("by_action_J") or {}).items()},
        "latency_by_phase_s": {k: v["s"] * per for k, v in (lat.get("phases") or {}).items()},
        # what the area metric leaves out (hwsim.energy.estimator: "not modelled")
        "area_not_modelled": [u["kind"] for u in area.get("unpriced", ())],
    }
    return metrics, breakdown


def evaluate_point(task: dict) -> dict:
    """Evaluate one point; never raises.  ``task``: base (dict), id, params, seed, out."""
    t0 = time.perf_counter()
    rec = {"id": task["id"], "params": task["params"], "seed": task["seed"],
           "sweep": task.get("sweep", ""), "status": "ok", "metrics": None, "breakdown": None,
           "error": None}
    try:
        base = Base(**task["base"])
        out = os.path.join(task["out"], "points", task["id"])
        acc_cfg, exp_cfg = point_configs(base, task["params"], task["seed"], out)
        if exp_cfg is None:
            from hwsim.report.replays import replay_report
            from hwsim.trace.replay import run_trace
            report = replay_report(acc_cfg, *run_trace(acc_cfg, base.trace, progress=False))
        else:
            from hwsim.report.runs import run_report, write_run_outputs
            from hwsim.training.runner import run_experiment
            result = run_experiment(exp_cfg, force=True)   # <out>/points/<id> is the sweep's
            report = run_report(result)
            write_run_outputs(report, result)
        rec["metrics"], rec["breakdown"] = summarize(report)
    except HwsimError as exc:
        rec.update(status="failed", error=exc.one_line())
    except Exception as exc:  # noqa: BLE001 - a failing point must not stop the sweep
        tb = traceback.format_exc(limit=-3).strip().splitlines()
        rec.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                   traceback="\n".join(tb[-6:]))
    rec["wall_s"] = time.perf_counter() - t0
    return rec
