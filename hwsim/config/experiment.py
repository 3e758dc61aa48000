"""The experiment description (layer 1): accelerator + workload + algorithm + run.

```yaml
schema_version: 1
accelerator: accelerators/cttv2_tile.yaml   # path (relative to this file) or a shipped name
workload:
  dataset: digits                           # or {name: mnist, path: ../shared/data/mnist}
  network: [{linear: 32, activation: sigmoid}, {linear: 10}]
training: {algorithm: c-ttv2, lr: 0.1, batch: 10, epochs: 5, params: {...}}
run: {seed: 0, out: runs/quickstart}
```
The algorithm's name and ``params`` are validated against the algorithm registry
(:mod:`hwsim.training.algorithms`, a higher layer) when the training layer resolves
it — ``hwsim validate`` does that too, with file, line and key.
"""
from __future__ import annotations

import os
from pathlib import Path

from hwsim.config.params import build_section, param, replace, section
from hwsim.config.yamlio import load_yaml
from hwsim.errors import ConfigError


@section("workload", "Network and data set")
class WorkloadConfig:
    dataset: str | dict = param("digits", desc="digits, mnist (with path) or a synthetic task")
    network: tuple | dict = param(({"linear": 32, "activation": "sigmoid"}, {"linear": 10}),
                                  desc="layers, first to last (see hwsim.training.network), "
                                  "or {onnx: model.onnx} (see hwsim.onnx)")


@section("training", "Training algorithm and hyperparameters")
class TrainingConfig:
    algorithm: str = param("c-ttv2", desc="in-memory training algorithm (`hwsim describe` "
                           "lists them; checked against the registry of hwsim.training)")
    lr: float = param(0.1, desc="learning rate η", lo=0, lo_open=True, hi=100.0,
                      why="with inputs and errors of order 1, a step lr·x·δ over 100 crosses "
                          "every device's weight range (±1) a hundredfold")
    batch: int = param(10, desc="mini-batch size (at most the training split, checked when "
                       "the data set is loaded)", lo=1, hi=1 << 20,
                       why="a batch of over 2²⁰ samples (no shipped data set has as many)")
    epochs: int = param(5, desc="epochs", lo=1)
    params: dict = param(factory=dict, desc="algorithm hyperparameters (see `hwsim describe ALGO`)")


@section("run", "Run settings")
class RunConfig:
    seed: int = param(0, desc="the one seed that drives every random draw", lo=0)
    out: str = param("runs/out", desc="output directory (report, checkpoints)")
    backend: str = param("cython", desc="kernel backend", choices=("cython", "numpy"))
    precision: str = param("float32", desc="floating-point format of the device state, step "
                           "sizes and pulsed-update arithmetic (float32 as IBM aihwkit's "
                           "tiles; float64 for reference runs: the results before issue 17)",
                           choices=("float32", "float64"),
                           cite="issue 17; aihwkit 1.1.0 tiles are float unless double is asked for")
    progress: bool = param(True, desc="show a progress bar")
    timing: bool = param(True, desc="simulate latency and energy alongside the numerics")
    checkpoint: bool = param(True, desc="write a checkpoint after every epoch")
    allow_large: bool = param(False, desc="run beyond the size budgets of hwsim.config.validate "
                              "(tiles, memory); also --allow-large")


@section("experiment", "An experiment: accelerator, workload, algorithm, run")
class ExperimentConfig:
    schema_version: int = param(1, desc="format version of this file", lo=1, hi=1)
    name: str = param("experiment", desc="name used in reports")
    accelerator: str | dict = param("accelerators/cttv2_tile.yaml",
                                    desc="accelerator file (relative to this file) or inline mapping")
    workload: WorkloadConfig = param(factory=WorkloadConfig, desc="network and data set")
    training: TrainingConfig = param(factory=TrainingConfig, desc="algorithm")
    run: RunConfig = param(factory=RunConfig, desc="run settings")
    file: str = param("", desc="(set by the loader) file this experiment was read from")
    accelerator_file: str = param("", desc="(set by the loader) file an inlined accelerator "
                                  "was read from (relative references resolve against it)")


def configs_dirs() -> list[Path]:
    """Where shipped configs live: the installed package data, then the source tree."""
    here = Path(__file__).resolve().parents[1]                      # the hwsim package
    return [p for p in (here / "configs", here.parent / "configs") if p.is_dir()]


def resolve_path(ref: str, base_file: str | None, subdir: str = "") -> str:
    """Resolve a file reference: relative to the referring file, then the shipped configs."""
    cands = []
    if os.path.isabs(ref):
        cands.append(Path(ref))
    else:
        if base_file:
            cands.append(Path(base_file).resolve().parent / ref)
        cands.append(Path.cwd() / ref)
        for d in configs_dirs():
            cands.append(d / ref)
            if subdir:
                cands.append(d / subdir / ref)
                cands.append(d / subdir / f"{ref}.yaml")
    for c in cands:
        if c.is_file():
            return str(c)
    raise ConfigError(f"cannot find '{ref}'", file=base_file)


def load_experiment(path: str, overrides: dict | None = None) -> ExperimentConfig:
    """Read and validate an experiment.  Overrides under ``accelerator.`` reach into the
    referenced accelerator file (``--set accelerator.tile.rows=128``): that file is read,
    overridden and inlined, and keeps its own file name for errors and references."""
    from hwsim.config.overrides import apply_overrides
    data = load_yaml(path)
    overrides = dict(overrides or {})
    acc_over = {k[len("accelerator."):]: v for k, v in overrides.items()
                if k.startswith("accelerator.")}
    acc_file = ""
    if acc_over and isinstance(data.get("accelerator", "accelerators/cttv2_tile.yaml"), str):
        ref = data.get("accelerator", "accelerators/cttv2_tile.yaml")
        acc_file = resolve_path(ref, path, "accelerators")
        acc_data = apply_overrides(load_yaml(acc_file), acc_over, acc_file)
        overrides = {k: v for k, v in overrides.items() if not k.startswith("accelerator.")}
        data["accelerator"] = acc_data
    if overrides:
        data = apply_overrides(data, overrides, path)
    cfg = build_section(ExperimentConfig, data, "", None)
    return replace(cfg, file=os.path.abspath(path), accelerator_file=acc_file)
