"""The public Python API of hwsim (layer 7); ``hwsim`` exports it (``import hwsim``).

Every ``hwsim`` command is a thin layer over one of these calls::

    import hwsim
    rep = hwsim.run(epochs=1, progress=lambda e: print(e["epoch"], e["test_accuracy"]))
    rep.final_accuracy, rep.energy_J, rep.energy_by_phase, rep.to_frame()
    t = hwsim.generate_trace("networks/digits_mlp.yaml", algorithm="sgd", batch=10,
                             steps=5, out="t.jsonl.gz")
    hwsim.replay("accelerators/cttv2_tile.yaml", t.path).latency_s
    hwsim.sweep("sweeps/tile_size.yaml").front

Files are YAML paths (relative to the working directory, else to the shipped
``configs/``) or, for experiments and accelerators, plain dicts; ``overrides`` are
dotted keys (``{"tile.rows": 128}``), as ``--set`` on the command line.  Bad input
raises a :class:`~hwsim.errors.HwsimError` subclass carrying ``file``, ``line`` and
``key``.  Results are :class:`~hwsim.report.view.Report` objects (plain numbers in SI
units, ``to_dict()``, ``to_frame()``).
"""
from __future__ import annotations

import copy
import dataclasses
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import hwsim.components  # noqa: F401  (registers the component kinds)
from hwsim.config.accelerator import AcceleratorConfig, accelerator_from_data
from hwsim.config.accelerator import load_accelerator as _load_accelerator_file
from hwsim.devices import DeviceConfig, device_schema, device_sections, load_device
from hwsim.config.experiment import ExperimentConfig, resolve_path
from hwsim.config.experiment import load_experiment as _load_experiment_file
from hwsim.config.overrides import apply_overrides
from hwsim.config.params import build_section, describe_section, json_schema
from hwsim.config.validate import check_size, detect_kind, estimate_size, located
from hwsim.config.yamlio import load_yaml
from hwsim.core import kinds
from hwsim.elaborate.graph import build_machine, expand as _expand
from hwsim.energy import TechnologyTable, area_report
from hwsim.errors import ConfigError, ConfigWarning, HwsimError
from hwsim.report.formats import resolve_formats, write_report
from hwsim.report.replays import replay_report
from hwsim.report.runs import run_report, write_run_outputs
from hwsim.report.timeline import write_timelines
from hwsim.report.view import Report
from hwsim.sweep.runner import run_sweep
from hwsim.sweep.spec import SweepSection, load_sweep
from hwsim.trace.format import TraceReader
from hwsim.training.trace_generate import generate_trace as _generate_trace
from hwsim.training.trace_generate import load_network
from hwsim.trace.replay import run_trace
from hwsim.training.algorithms import algorithm_sections, experiment_schema
from hwsim.training.datasets import dataset_sections
from hwsim.training.network_spec import LayerSpec, layer_sections
from hwsim.training.runner import prepare, run_experiment

#: the embedded default experiment (``hwsim run`` without a file)
QUICKSTART = "quickstart.yaml"


# --- loading ---------------------------------------------------------------------------
def _find(ref, subdir: str = "") -> str:
    """``ref`` as given (relative to the working directory), else under the shipped
    ``configs/`` (or ``configs/<subdir>``); a missing file is a ConfigError naming it."""
    ref = str(ref)
    if os.path.exists(ref):
        return ref
    try:
        return resolve_path(ref, None, subdir)
    except ConfigError:
        raise ConfigError("file not found", file=ref) from None


def _with_overrides(cfg, overrides: dict, load):
    """A loaded config as is, or re-read from its file with ``overrides``."""
    if not overrides:
        return cfg
    if not (cfg.file and os.path.isfile(cfg.file)):
        raise ConfigError("overrides of a config object need the file it was read from; "
                          "pass the path or a dict instead", key=next(iter(overrides)))
    return load(cfg.file, overrides)


def load_experiment(source: str | os.PathLike | Mapping | ExperimentConfig | None = None,
                    overrides: Mapping | None = None) -> ExperimentConfig:
    """An experiment from a YAML path (relative, else under the shipped ``configs/``),
    a dict of the same keys, a loaded config, or ``None`` (the quickstart);
    ``overrides`` under ``accelerator.`` reach into its accelerator."""
    overrides = dict(overrides or {})
    if isinstance(source, ExperimentConfig):
        return _with_overrides(source, overrides, _load_experiment_file)
    if source is None:
        source = resolve_path(QUICKSTART, None)
    if not isinstance(source, Mapping):
        return _load_experiment_file(_find(source), overrides)
    data = copy.deepcopy(dict(source))
    acc_file = ""
    ref = data.get("accelerator", "accelerators/cttv2_tile.yaml")
    if any(k.startswith("accelerator.") for k in overrides) and isinstance(ref, str):
        acc_file = resolve_path(ref, None, "accelerators")
        data["accelerator"] = load_yaml(acc_file)
    if overrides:
        data = apply_overrides(data, overrides, "<experiment>")
    cfg = build_section(ExperimentConfig, data, "", None)
    return dataclasses.replace(cfg, accelerator_file=acc_file or cfg.accelerator_file)


def load_accelerator(source: str | os.PathLike | Mapping | AcceleratorConfig,
                     overrides: Mapping | None = None) -> AcceleratorConfig:
    """An accelerator from a YAML path (relative, else under ``configs/accelerators``),
    a dict of the same keys, or a loaded config."""
    overrides = dict(overrides or {})
    if isinstance(source, AcceleratorConfig):
        return _with_overrides(source, overrides, _load_accelerator_file)
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
        return accelerator_from_data(apply_overrides(data, overrides, "<accelerator>")
                                     if overrides else data)
    return _load_accelerator_file(_find(source, "accelerators"), overrides or None)


# --- training runs ---------------------------------------------------------------------
def run(experiment: str | os.PathLike | Mapping | ExperimentConfig | None = None, *,
        epochs: int | None = None, seed: int | None = None, out: str | os.PathLike | None = None,
        overrides: Mapping | None = None,
        progress: bool | Callable[[dict], object] | None = None,
        data_dir: str | os.PathLike | None = None, resume: bool = False, force: bool = False,
        trace: str | os.PathLike | None = None, timeline: str | os.PathLike | None = None,
        vcd: str | os.PathLike | None = None, formats=None) -> Report:
    """Train ``experiment`` (``None``: the embedded quickstart) and simulate its
    latency and energy; write the report into ``out`` (``run.out``).

    ``progress``: ``None`` keeps the experiment's ``run.progress`` bar, ``True``/``False``
    switch the bar, a callable is called after every epoch with its record
    (``epoch``, ``train_loss``, ``test_loss``, ``test_accuracy``, ``samples``) and
    the bar is off.  ``trace``: record the ops to this trace file; ``timeline`` /
    ``vcd``: write a Chrome-trace / VCD timeline; ``formats``: report formats to write
    (names of :data:`hwsim.report.formats.FORMATS`, default JSON + CSV, ``()`` none).
    ``resume``: continue the checkpoint in ``out`` (refused when it was made by another
    configuration); ``force``: overwrite another run's results in ``out``.
    """
    resolve_formats(formats)                  # an unknown format fails before the run
    over = dict(overrides or {})
    if epochs is not None:
        over["training.epochs"] = epochs
    if seed is not None:
        over["run.seed"] = seed
    if out is not None:
        over["run.out"] = str(out)
    if progress is not None:
        over["run.progress"] = progress is True
    cfg = load_experiment(experiment, over)
    result = run_experiment(cfg, resume=resume, trace_path=trace,
                            timeline=bool(timeline or vcd), data_dir=data_dir, force=force,
                            on_epoch=progress if callable(progress) else None)
    data = run_report(result)
    files = write_run_outputs(data, result, timeline=timeline, vcd=vcd, formats=formats)
    return Report(data, out=result.out, files=files)


# --- traces ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceInfo:
    """A trace file and the counts of its footer."""
    path: Path
    ops: int
    steps: int
    samples: int
    bytes: int


def generate_trace(network: str | os.PathLike | list | dict, *, algorithm: str, batch: int,
                   steps: int, out: str | os.PathLike, samples: int | None = None,
                   params: Mapping | None = None, progress: bool = False,
                   seq: int | None = None, tile: tuple | None = None) -> TraceInfo:
    """Write the op stream of ``algorithm`` on ``network`` (a network YAML, relative or
    under ``configs/networks``; or layer shapes) for ``steps`` mini-batches of ``batch``
    to ``out``, with the expected statistics of :mod:`hwsim.training.algorithms.symbolic`;
    ``params``: its statistics-model and algorithm parameters; ``seq``: the length of an
    ONNX model's dynamic token dimension; ``tile``: (rows, cols) of the tiles the trace is
    for (layers larger than a tile split as a run on them splits them; None: one array
    per layer)."""
    if isinstance(network, (str, os.PathLike)):
        network = _find(network, "networks")
    path = _generate_trace(network, batch, steps, algorithm, out=out, samples=samples,
                           seq=seq, progress=progress, tile=tile, **dict(params or {}))
    reader = TraceReader(path)
    for _ in reader:
        pass
    f = reader.footer
    return TraceInfo(Path(path), f["ops"], f["steps"], f["samples"], Path(path).stat().st_size)


def default_replay_out(trace: str | os.PathLike) -> Path:
    """``runs/replay-<trace name without .jsonl.gz>``."""
    name = Path(trace).name
    for ext in (".jsonl.gz", ".gz", ".jsonl"):
        if name.endswith(ext):
            return Path("runs") / f"replay-{name[: -len(ext)]}"
    return Path("runs") / f"replay-{Path(name).stem}"


def replay(accelerator: str | os.PathLike | Mapping | AcceleratorConfig,
           trace: str | os.PathLike, *, out: str | os.PathLike | None = None,
           overrides: Mapping | None = None, progress: bool = True, cache: bool = True,
           timeline: str | os.PathLike | None = None, vcd: str | os.PathLike | None = None,
           formats=None) -> Report:
    """Latency, energy and area of ``trace`` on ``accelerator`` (no numerics).  With
    ``out`` the report files (``formats``) go there, written only after the whole trace
    replayed (``hwsim replay`` passes :func:`default_replay_out`); without, nothing is
    written.  ``cache=False`` simulates every op (same result, slower)."""
    resolve_formats(formats)
    acc = load_accelerator(accelerator, overrides)
    t0 = time.perf_counter()
    hw, reader = run_trace(acc, trace, progress=progress, cache=cache,
                                   timeline=bool(timeline or vcd))
    data = replay_report(acc, hw, reader, wall_s=time.perf_counter() - t0)
    files = []
    try:
        if timeline or vcd:
            files += write_timelines(hw, timeline, vcd)
        if out is not None:
            files = write_report(data, out, formats) + files
    except OSError as exc:
        raise ConfigError(f"cannot write the replay report: {exc}", file=str(out)) from None
    return Report(data, out=out, files=files)


# --- sweeps ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResult:
    """Every point of a sweep (grid order; ``status``, ``params``, ``metrics``, ``pareto``…)
    and its Pareto front."""
    name: str
    out: Path
    objectives: dict
    points: list
    wall_s: float

    @property
    def front(self) -> list:
        return [p for p in self.points if p.get("pareto")]

    @property
    def failed(self) -> list:
        return [p for p in self.points if p["status"] == "failed"]


def sweep(spec: str | os.PathLike, *, out: str | os.PathLike | None = None,
          workers: int | None = None, scheduler=None, progress: bool = True,
          retry_failed: bool = False, plots: bool = True,
          allow_large: bool = False) -> SweepResult:
    """Run the design-space sweep ``spec`` (YAML, relative or under ``configs/sweeps``)
    into ``out`` (default ``runs/sweeps/<name>``); points already done are kept.
    ``scheduler``: a Dask scheduler address, or ``"local"`` for a Dask cluster of
    ``workers`` processes owned by the sweep; ``allow_large``: a grid of more than the
    point budget (:mod:`hwsim.sweep.spec`)."""
    path = _find(spec, "sweeps")
    if workers is not None and workers < 1:
        raise ConfigError(f"must be >= 1, got {workers}", key="workers")
    loaded = load_sweep(path, allow_large=allow_large)
    out = Path(out) if out is not None else Path("runs") / "sweeps" / Path(path).stem
    t0 = time.perf_counter()
    rows = run_sweep(loaded, out, workers=workers, scheduler=scheduler, progress=progress,
                     retry_failed=retry_failed, plots=plots)
    return SweepResult(loaded.name, out, dict(loaded.objectives), rows,
                       time.perf_counter() - t0)


# --- checking --------------------------------------------------------------------------
@dataclass(frozen=True)
class Validation:
    """What :func:`validate` checked: ``kind`` (accelerator | experiment), the config,
    and a one-line summary."""
    kind: str
    config: object
    summary: str
    #: the :class:`~hwsim.errors.ConfigWarning` lines the check issued (each also warned)
    warnings: tuple = ()


def validate(source: str | os.PathLike | Mapping, overrides: Mapping | None = None, *,
             kind: str | None = None, data_dir: str | os.PathLike | None = None,
             allow_large: bool = False) -> Validation:
    """Check an accelerator, experiment, sweep or network file (path or dict) as fully as
    ``run``/``sweep``/``trace generate`` would read it, without running it.  ``kind``
    (default: detected from the keys, :func:`hwsim.config.validate.detect_kind`).  An
    experiment goes through the run's own :func:`~hwsim.training.runner.prepare` (with its
    dry run of one batch); an accelerator through its device, technology table, size
    budget (``allow_large``) and component graph.  Settings that run but do not do what
    they read as are :class:`~hwsim.errors.ConfigWarning` warnings: warned, and listed (one
    line each) in ``Validation.warnings``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigWarning)
        checked = _validate(source, overrides, kind=kind, data_dir=data_dir,
                            allow_large=allow_large)
    lines = []
    for w in caught:
        if isinstance(w.message, ConfigWarning):
            if w.message.one_line() in lines:
                continue
            lines.append(w.message.one_line())
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return dataclasses.replace(checked, warnings=tuple(lines))


def _validate(source, overrides, *, kind, data_dir, allow_large) -> Validation:
    """:func:`validate` without the warnings' collection."""
    if not isinstance(source, Mapping):
        source = _find(source, "accelerators")
    data = load_yaml(source) if not isinstance(source, Mapping) else source
    name = source if not isinstance(source, Mapping) else "<mapping>"
    kind = kind or detect_kind(data, name)
    if kind in ("sweep", "network", "device", "technology") and overrides:
        raise HwsimError(f"--set applies to accelerator and experiment files, not to a {kind} "
                         f"file", file="--set")
    if kind == "experiment":
        over = dict(overrides or {}) | ({"run.allow_large": True} if allow_large else {})
        cfg = load_experiment(source, over)
        prepare(cfg, data_dir=data_dir, validate_only=True)
        return Validation("experiment", cfg,
                          f"valid experiment '{cfg.name}' ({cfg.training.algorithm})")
    if kind == "sweep":
        spec = load_sweep(str(source), validate=True)
        return Validation("sweep", spec, f"valid sweep '{spec.name}': {len(spec.points)} points")
    if kind == "network":
        net = load_network(str(source))
        return Validation("network", net, f"valid network '{net['name']}': "
                          f"{len(net['layers'])} analog layers")
    if kind == "device":
        dev = load_device(str(source))
        return Validation("device", dev, f"valid device ({dev.model})")
    if kind == "technology":
        table = TechnologyTable.load(str(source))
        return Validation("technology", table, f"valid technology table '{table.name}': "
                          f"{len(table.config.entries)} entries")
    acc = load_accelerator(source, overrides)
    check_size(estimate_size(acc), file=acc.file, allow_large=allow_large)
    base = os.path.dirname(acc.file) if acc.file and os.path.exists(acc.file) else None
    try:
        load_device(acc.device, base_dir=base)
    except ConfigError as exc:
        raise located(exc, acc.file, "device") from None
    table = TechnologyTable.load(acc.technology, base_dir=base)
    machine = build_machine(acc)
    area_report(machine.components, table)      # every block's area priced, as reports do
    return Validation("accelerator", acc,
                      f"valid accelerator '{acc.name}': {len(machine.components)} components, "
                      f"{acc.tile.count} tiles of {acc.tile.rows}×{acc.tile.cols}")


def expand(source: str | os.PathLike | Mapping, overrides: Mapping | None = None) -> dict:
    """The accelerator in explicit form: its own keys (overrides applied; file
    references made absolute) with ``components`` and ``connections`` listing every
    instance and wire.  The result is an accelerator document that loads again and
    builds the same machine (the template's instances are restated, not added)."""
    acc = load_accelerator(source, overrides)
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
    else:
        data = load_yaml(acc.file)
    if overrides:
        data = apply_overrides(data, dict(overrides), acc.file or "<accelerator>")
    base = os.path.dirname(acc.file) if acc.file and os.path.exists(acc.file) else None
    for key in ("device", "technology"):
        ref = data.get(key)
        if base and isinstance(ref, str) and os.path.isfile(os.path.join(base, ref)):
            data[key] = os.path.abspath(os.path.join(base, ref))
    return {**data, **_expand(acc)}


# --- documentation ---------------------------------------------------------------------
def sections() -> dict:
    """Config sections by name: accelerator, experiment, sweep, device (the common keys;
    ``device.<model>`` each model's), every algorithm's params, every data set's options
    (``dataset.<name>``) and the items of a network (``network``, ``network.layer`` ...)."""
    return {"accelerator": AcceleratorConfig, "experiment": ExperimentConfig,
            "sweep": SweepSection, "device": DeviceConfig,
            **{f"device.{k}": v for k, v in device_sections().items()},
            **algorithm_sections(), **dataset_sections(), **layer_sections()}


def _lookup(name: str, table: dict):
    """``table[name]``, else the one entry whose name matches case-insensitively."""
    if name in table:
        return name, table[name]
    hits = [k for k in table if k.casefold() == name.casefold()]
    return (hits[0], table[hits[0]]) if len(hits) == 1 else (None, None)


def _doc(cls) -> str:
    """First line of a class's docstring, else of its module's."""
    text = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def describe(name: str | None = None) -> str:
    """Text: the component kinds and sections (``None``), or the parameters (type,
    default, unit, range), ports and actions of a kind, or the keys of a section;
    ``name`` is case-insensitive (``adc`` = ``ADC``)."""
    secs = sections()
    if not name:
        lines = ["component kinds:"] + [f"  {k:20s} {_doc(c)}" for k, c in kinds().items()]
        return "\n".join(lines + ["sections: " + ", ".join(sorted(secs))])
    kind, cls = _lookup(name, kinds())
    if cls is not None:
        lines = [f"{kind}: {_doc(cls)}", "parameters:", *describe_section(cls.Params), "ports:"]
        lines += [f"  {p.name} ({p.direction}, {p.payload}{', shared' if p.multi else ''}): "
                  f"{p.desc}" for p in cls.PORTS]
        lines += ["actions:"] + [f"  {a}: {d}" for a, d in cls.ACTIONS.items()]
        return "\n".join(lines)
    key, sec = _lookup(name, secs)
    if sec is not None:
        lines = describe_section(sec)
        if key == "device":              # the common keys; each model adds its own
            lines.append("models (their own keys: hwsim describe device.<model>): "
                         + ", ".join(device_sections()))
        return "\n".join(lines)
    raise HwsimError(f"unknown kind or section '{name}' (kinds: {', '.join(kinds())}; "
                     f"sections: {', '.join(sorted(secs))})", key=name)


def schema(which: str = "accelerator") -> dict:
    """The JSON Schema (draft 2020-12) of a section's YAML (:func:`sections`)."""
    key, cls = _lookup(which, sections())
    if cls is None:
        raise HwsimError(f"no schema '{which}' (known: {', '.join(sorted(sections()))})",
                         key=which)
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "title": f"hwsim {key}"} | json_schema(cls)
    if key == "device":
        return {"$schema": out["$schema"], "title": out["title"]} | device_schema()
    if key != "experiment":
        return out
    work = out["properties"]["workload"]["properties"]     # the registries' items
    work["network"]["items"] = json_schema(LayerSpec)
    names = sorted(n.split(".", 1)[1] for n in dataset_sections())
    work["dataset"]["anyOf"] = [{"type": "string", "enum": names}] + \
        [json_schema(c) for _, c in sorted(dataset_sections().items())]
    return experiment_schema(out)
