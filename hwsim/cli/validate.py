"""``hwsim validate FILE``: check an accelerator or experiment file (``--expand``: print
the explicit form of an accelerator)."""
from __future__ import annotations

import json
import os

from hwsim.cli.common import add_set_option
from hwsim.config.accelerator import load_accelerator
from hwsim.config.devices import load_device
from hwsim.config.experiment import load_experiment
from hwsim.config.overrides import parse_set_args
from hwsim.config.yamlio import load_yaml
from hwsim.elaborate.graph import build_machine, expand
from hwsim.energy import TechnologyTable
from hwsim.training.runner import prepare


def register(sub) -> None:
    p = sub.add_parser("validate", help="check an accelerator or experiment file",
                       description=__doc__)
    p.add_argument("file", help="accelerator or experiment YAML")
    add_set_option(p)
    p.add_argument("--expand", action="store_true",
                   help="print the explicit form (components + connections) of an accelerator")
    p.set_defaults(func=execute)


def _load_any(path, overrides):
    data = load_yaml(path)
    if isinstance(data, dict) and ("workload" in data or "training" in data):
        return "experiment", load_experiment(path, overrides)
    return "accelerator", load_accelerator(path, overrides)


def execute(args) -> int:
    kind, cfg = _load_any(args.file, parse_set_args(args.set))
    if kind == "accelerator":
        base = os.path.dirname(cfg.file) if cfg.file else None
        load_device(cfg.device, base_dir=base)
        TechnologyTable.load(cfg.technology, base_dir=base)
        machine = build_machine(cfg)
        if args.expand:
            print(json.dumps(expand(cfg), indent=1, sort_keys=True, default=str))
        else:
            print(f"{args.file}: valid accelerator '{cfg.name}': {len(machine.components)} "
                  f"components, {cfg.tile.count} tiles of {cfg.tile.rows}×{cfg.tile.cols}")
    else:
        prepare(cfg, data_dir=None, validate_only=True)
        print(f"{args.file}: valid experiment '{cfg.name}' ({cfg.training.algorithm})")
    return 0
