"""The sweep file (layer 6): base + axes + zipped axes + constraints + objectives -> points.

```yaml
schema_version: 1
name: resnet32-tiles
base:
  accelerator: ../accelerators/analog_tile.yaml   # relative to this file
  trace: ../../traces/resnet32_cifar10_step.jsonl.gz   # replay it, or
  # experiment: ../digits_sgd.yaml                # train it
  set: {tile.count: 4096}                          # fixed for every point
axes:                                              # the grid: product over axes
  tile.rows: [64, 128, 256]
  tile.periphery.adc.bits: {start: 4, stop: 10, step: 1}
  tile.pulse_width: {start: 1 ns, stop: 100 ns, num: 3, scale: log}
zip:                                               # keys that move together
  - {tile.rows: [64, 256], tile.cols: [64, 256]}
constraints: ["tile.rows * tile.cols <= 65536", "area_mm2 <= 50"]
objectives: {energy_per_sample: min, latency_per_sample: min}
seed: 0
```

**Grid** (:mod:`hwsim.sweep.grid`): the Cartesian product of the plain axes (first
slowest) and then the zip groups; lists or ranges ``{start, stop, step|num, scale:
lin|log}``.  Keys starting with ``experiment.`` set the experiment, all others the
accelerator (:mod:`hwsim.sweep.evaluate`).

**Constraints** (:mod:`hwsim.sweep.expr`) that name only axis keys filter the
grid before anything runs; those naming a metric (``area_mm2``, ``accuracy``…)
mark finished points infeasible, which keeps them off the Pareto front.

**Points.** A point is ``{dotted key: value}``; its ``id`` is the first 16 hex
digits of SHA-256 of its canonical JSON (sorted keys, no spaces) and its seed is
``SeedSequence([sweep seed, int(id, 16)]).generate_state(1)[0]`` — stable under
reordering or extending the axes, so a resumed, grown sweep reuses its points.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from hwsim.config.params import build_section, param, section
from hwsim.config.yamlio import file_of, line_of, load_yaml
from hwsim.errors import ConfigError, HwsimError, UnitError
from hwsim.sweep.evaluate import (EXPERIMENT_PREFIX, METRICS, Base, accelerator_path,
                                  check_references, point_configs)
from hwsim.sweep.expr import Expression, ExpressionError
from hwsim.sweep.grid import canonical, expand_grid
from hwsim.sweep.grid import yaml_error as _err


@section("base", "What every design point starts from")
class BaseSection:
    accelerator: str = param("", desc="accelerator YAML (relative to the sweep file); "
                             "default with an experiment: the experiment's own")
    trace: str = param("", desc="trace to replay on every point (latency/energy/area)")
    experiment: str = param("", desc="experiment to train on every point (adds accuracy)")
    set: dict = param(factory=dict, desc="fixed dotted-key overrides applied to every point")


@section("sweep", "A design-space sweep")
class SweepSection:
    schema_version: int = param(1, desc="format version of this file", lo=1, hi=1)
    name: str = param("sweep", desc="name used in outputs")
    base: BaseSection = param(factory=BaseSection, desc="base accelerator and workload")
    axes: dict = param(factory=dict, desc="dotted key -> list of values or a range")
    zip: tuple = param((), desc="groups of keys whose equal-length lists move together")
    constraints: tuple[str, ...] = param((), desc="boolean expressions over keys and metrics")
    objectives: dict = param(factory=dict, desc="metric -> min or max (default: energy, "
                             "latency, area per sample; + accuracy when training)")
    seed: int = param(0, desc="sweep seed; each point's seed derives from it", lo=0)


@dataclass(frozen=True)
class Point:
    id: str
    params: dict
    seed: int


@dataclass(frozen=True)
class Constraint:
    expr: Expression
    line: int | None
    post: bool            # names a metric: checked after evaluation


@dataclass(frozen=True)
class SweepSpec:
    name: str
    file: str
    base: Base
    keys: tuple           # axis keys in grid order
    points: tuple         # Point, in grid order
    constraints: tuple    # Constraint
    objectives: dict      # metric -> "min" | "max"
    seed: int

    def fingerprint(self) -> str:
        """Hash of everything that changes a point's result except its own keys."""
        h = hashlib.sha256()
        acc = self.base.accelerator or (accelerator_path(self.base) or "")
        for path in (acc, self.base.trace, self.base.experiment):
            if path and os.path.isfile(path):
                with open(path, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
        h.update(canonical({"set": self.base.set, "seed": self.seed,
                            "mode": self.base.mode}).encode())
        return h.hexdigest()[:16]


def point_id(params: dict) -> str:
    return hashlib.sha256(canonical(params).encode()).hexdigest()[:16]


def point_seed(sweep_seed: int, pid: str) -> int:
    return int(np.random.SeedSequence([sweep_seed, int(pid, 16)]).generate_state(1)[0])


def _base(b: BaseSection, data, file) -> Base:
    node = data.get("base") or {}
    here = os.path.dirname(os.path.abspath(file))

    def resolve(key, ref, subdir=""):
        if not ref:
            return ""
        cand = ref if os.path.isabs(ref) else os.path.join(here, ref)
        if os.path.isfile(cand):
            return os.path.abspath(cand)
        if subdir:
            from hwsim.config.experiment import resolve_path
            try:
                return resolve_path(ref, file, subdir)
            except ConfigError:
                pass
        raise _err(f"file not found: {ref}", node, key, f"base.{key}")
    if bool(b.trace) == bool(b.experiment):
        raise _err("the base needs exactly one of trace (replay) or experiment (train)",
                   data, "base", "base")
    if b.trace and not b.accelerator:
        raise _err("a trace sweep needs base.accelerator", data, "base", "base")
    return Base(accelerator=resolve("accelerator", b.accelerator, "accelerators"),
                trace=resolve("trace", b.trace), experiment=resolve("experiment", b.experiment),
                set=dict(b.set))


def _objectives(obj: dict, mode: str, data, file) -> dict:
    if not obj:
        obj = {"energy_per_sample": "min", "latency_per_sample": "min", "area": "min"}
        return obj | ({"accuracy": "max"} if mode == "experiment" else {})
    node = data["objectives"]
    for k, sense in obj.items():
        if k not in METRICS:
            raise _err(f"unknown objective (metrics: {', '.join(METRICS)})", node, k,
                       f"objectives.{k}")
        if sense not in ("min", "max"):
            raise _err(f"an objective is min or max, got {sense!r}", node, k, f"objectives.{k}")
        if k == "accuracy" and mode == "trace":
            raise _err("accuracy needs an experiment base (a trace has no numerics)", node, k,
                       f"objectives.{k}")
    return dict(obj)


def _constraints(texts, keys, data, mode: str) -> list:
    out = []
    node = data.get("constraints")
    known = set(keys) | set(METRICS)
    for i, text in enumerate(texts):
        try:
            e = Expression(text)
        except ExpressionError as exc:
            raise _err(str(exc), node, i, f"constraints[{i}]") from None
        unknown = sorted(e.names - known)
        if unknown:
            raise _err(f"unknown name(s) {', '.join(unknown)} (axis keys: {', '.join(keys)}; "
                       f"metrics: {', '.join(METRICS)})", node, i, f"constraints[{i}]")
        if mode == "trace" and "accuracy" in e.names:
            raise _err("accuracy needs an experiment base (a trace has no numerics)", node, i,
                       f"constraints[{i}]")
        out.append(Constraint(e, line_of(node, i), post=bool(e.names & set(METRICS))))
    return out


def load_sweep(path: str, validate: bool = True, allow_large: bool = False) -> SweepSpec:
    """Read, expand and check a sweep file.

    With ``validate`` every point is applied to the base configuration and built,
    so an unknown key or an invalid value is reported at its axis line.  A grid over
    the budget of :data:`hwsim.sweep.grid.MAX_POINTS` is refused unless ``allow_large``.
    """
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("a sweep file must be a mapping", file=path)
    try:
        sec = build_section(SweepSection, data, "")
    except UnitError as exc:  # pragma: no cover - build_section reports units as ConfigError
        raise ConfigError(exc.message, file=path) from None
    base = _base(sec.base, data, path)
    keys, combos, where = expand_grid(data, path, allow_large)
    if base.mode == "trace":
        for k in keys:
            if k.startswith(EXPERIMENT_PREFIX):
                c, yk, p = where[k]
                raise _err("a trace sweep has no experiment to set", c, yk, p)
    constraints = _constraints(sec.constraints, keys, data, base.mode)
    points, seen = [], set()
    for combo in combos:
        params = dict(zip(keys, combo))
        if not all(holds(c, params, file_of(data.get("constraints"), path))
                   for c in constraints if not c.post):
            continue
        pid = point_id(params)
        if pid in seen:  # pragma: no cover - distinct values give distinct JSON
            continue
        seen.add(pid)
        points.append(Point(pid, params, point_seed(sec.seed, pid)))
    if not points:
        raise ConfigError("the constraints exclude every point of the grid", file=path,
                          key="constraints")
    spec = SweepSpec(sec.name, os.path.abspath(path), base, tuple(keys), tuple(points),
                     tuple(constraints), _objectives(sec.objectives, base.mode, data, path),
                     sec.seed)
    if validate:
        validate_points(spec, where)
    return spec


def holds(c, values: dict, file: str, params: dict | None = None) -> bool:
    """Constraint ``c`` on one point's ``values``; an evaluation error (a bound of
    :mod:`hwsim.sweep.expr`) is a ConfigError at the constraint's line naming the point."""
    try:
        return c.expr.evaluate(values)
    except ExpressionError as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in (params or values).items())
        raise ConfigError(f"{exc} (point {shown})", file=file, line=c.line,
                          key="constraints") from None


def validate_points(spec: SweepSpec, where: dict) -> None:
    """Build the configs of every point and resolve their device, technology and
    algorithm; the first error names the axis (file, line) that caused it."""
    memo: set = set()
    try:
        check_references(*point_configs(spec.base, {}), memo)
    except HwsimError as exc:
        raise ConfigError(f"the base does not build: {exc.one_line()}", file=spec.file,
                          key="base") from None
    for pt in spec.points:
        try:
            check_references(*point_configs(spec.base, pt.params), memo)
        except HwsimError as exc:
            key = exc.key or ""
            hit = next((k for k in spec.keys if _relates(k, key)), None)
            c, yk, p = where.get(hit, (None, None, "axes"))
            shown = ", ".join(f"{k}={v!r}" for k, v in pt.params.items())
            raise ConfigError(f"{exc.message} (point {shown})",
                              file=file_of(c, spec.file) if c is not None else spec.file,
                              line=line_of(c, yk) if c is not None else None, key=p) from None


def _relates(axis_key: str, err_key: str) -> bool:
    k = axis_key[len(EXPERIMENT_PREFIX):] if axis_key.startswith(EXPERIMENT_PREFIX) else axis_key
    return err_key == k or err_key.startswith(k + ".") or k.startswith(err_key + ".") \
        or err_key.endswith("." + k)
