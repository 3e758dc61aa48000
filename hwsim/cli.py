"""The ``hwsim`` command (layer 7).

Every user error (:class:`~hwsim.errors.HwsimError`) is printed as one line
``file:line: key: message`` on stderr with exit status 2 and no traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from hwsim.errors import HwsimError

QUICKSTART = "quickstart.yaml"


def _default_experiment() -> str:
    from hwsim.config.experiment import resolve_path
    return resolve_path(QUICKSTART, None)


def cmd_run(args) -> int:
    from hwsim.config.experiment import load_experiment
    from hwsim.config.overrides import parse_set_args
    from hwsim.training.runner import run_experiment
    path = args.experiment or _default_experiment()
    overrides = parse_set_args(args.set)
    if args.epochs is not None:
        overrides["training.epochs"] = args.epochs
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.out:
        overrides["run.out"] = args.out
    if args.no_progress:
        overrides["run.progress"] = False
    if args.allow_large:
        overrides["run.allow_large"] = True
    cfg = load_experiment(path, overrides)
    from hwsim.report import render_text
    from hwsim.report.runs import run_report, write_run_outputs
    result = run_experiment(cfg, resume=args.resume, trace_path=args.trace,
                            timeline=bool(args.timeline or args.vcd), data_dir=args.data)
    report = run_report(result)
    written = write_run_outputs(report, result, timeline=args.timeline, vcd=args.vcd)
    print(render_text(report))
    print("wrote " + ", ".join(written))
    return 0


def cmd_validate(args) -> int:
    """Check a file as ``run``/``replay``/``sweep`` would read it (hwsim.config.validate)."""
    from hwsim.config.overrides import parse_set_args
    from hwsim.config.validate import check_size, detect_kind, estimate_size
    from hwsim.config.yamlio import load_yaml
    overrides = parse_set_args(args.set)
    kind = args.kind or detect_kind(load_yaml(args.file), args.file)
    if kind == "accelerator":
        from hwsim.config.accelerator import load_accelerator
        from hwsim.elaborate.graph import build_machine, expand
        from hwsim.energy import TechnologyTable
        cfg = load_accelerator(args.file, overrides)
        check_size(estimate_size(cfg), file=args.file, allow_large=args.allow_large)
        TechnologyTable.load(cfg.technology, base_dir=os.path.dirname(cfg.file) or None)
        machine = build_machine(cfg)
        if args.expand:
            print(json.dumps(expand(cfg), indent=1, sort_keys=True, default=str))
        else:
            print(f"{args.file}: valid accelerator '{cfg.name}': {len(machine.components)} "
                  f"components, {cfg.tile.count} tiles of {cfg.tile.rows}×{cfg.tile.cols}")
    elif kind == "experiment":
        from hwsim.config.experiment import load_experiment
        from hwsim.training.runner import prepare
        if args.allow_large:
            overrides["run.allow_large"] = True
        cfg = load_experiment(args.file, overrides)
        prepare(cfg, data_dir=args.data, validate_only=True)
        print(f"{args.file}: valid experiment '{cfg.name}' ({cfg.training.algorithm})")
    elif kind == "sweep":
        from hwsim.sweep.spec import load_sweep
        _no_overrides(overrides, kind)
        spec = load_sweep(args.file, validate=True)
        print(f"{args.file}: valid sweep '{spec.name}': {len(spec.points)} points")
    else:
        from hwsim.trace.generate import load_network
        _no_overrides(overrides, kind)
        net = load_network(args.file)
        print(f"{args.file}: valid network '{net['name']}': {len(net['layers'])} analog layers")
    return 0


def _no_overrides(overrides, kind):
    if overrides:
        raise HwsimError(f"--set applies to accelerator and experiment files, not to a {kind} "
                         f"file", file="--set")


def cmd_describe(args) -> int:
    import hwsim.components  # noqa: F401
    from hwsim.config.params import describe_section
    from hwsim.core import kinds
    sections = _sections()
    if not args.kind:
        print("component kinds:")
        for name, cls in kinds().items():
            print(f"  {name:20s} {_doc(cls)}")
        print("sections: " + ", ".join(sorted(sections)))
        return 0
    k = args.kind
    if k in kinds():
        cls = kinds()[k]
        print(f"{k}: {_doc(cls)}")
        print("parameters:")
        print("\n".join(describe_section(cls.Params)))
        print("ports:")
        for p in cls.PORTS:
            print(f"  {p.name} ({p.direction}, {p.payload}{', shared' if p.multi else ''}): {p.desc}")
        print("actions:")
        for a, d in cls.ACTIONS.items():
            print(f"  {a}: {d}")
        return 0
    if k in sections:
        print("\n".join(describe_section(sections[k])))
        return 0
    raise HwsimError(f"unknown kind or section '{k}' (kinds: {', '.join(kinds())}; sections: "
                     f"{', '.join(sorted(sections))})")


def _doc(cls) -> str:
    """First line of a class's docstring, else of its module's."""
    text = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _sections() -> dict:
    """Every declared file section by name: files, algorithms, data sets, network items."""
    from hwsim.config.accelerator import AcceleratorConfig
    from hwsim.config.devices import DeviceConfig
    from hwsim.config.experiment import ExperimentConfig
    from hwsim.sweep.spec import SweepSection
    from hwsim.training.algorithms import algorithm_sections
    from hwsim.training.datasets import dataset_sections
    from hwsim.training.network_spec import layer_sections
    out = {"accelerator": AcceleratorConfig, "experiment": ExperimentConfig,
           "device": DeviceConfig, "sweep": SweepSection}
    out.update(algorithm_sections())
    out.update(dataset_sections())
    out.update(layer_sections())
    return out


def cmd_schema(args) -> int:
    from hwsim.config.params import json_schema
    from hwsim.training.network_spec import LayerSpec
    sections = _sections()
    if args.which not in sections:
        raise HwsimError(f"no schema named '{args.which}' (known: {', '.join(sorted(sections))})")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": f"hwsim {args.which}"} | json_schema(sections[args.which])
    if args.which == "experiment":           # the layer items and data sets, by reference
        work = schema["properties"]["workload"]["properties"]
        work["network"]["items"] = json_schema(LayerSpec)
        work["dataset"]["anyOf"] = [{"type": "string", "enum": [n.split(".", 1)[1] for n in
                                     sections if n.startswith("dataset.")]}] + \
            [json_schema(c) for n, c in sorted(sections.items()) if n.startswith("dataset.")]
    text = json.dumps(schema, indent=1, sort_keys=True)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise HwsimError(f"cannot write the schema: {exc.strerror}", file=args.output) from None
    else:
        print(text)
    return 0


def cmd_graph(args) -> int:
    from hwsim.elaborate.dot import write_graph
    from hwsim.config.accelerator import load_accelerator
    from hwsim.config.overrides import parse_set_args
    cfg = load_accelerator(args.accelerator, parse_set_args(args.set))
    written = write_graph(cfg, args.output)
    for w in written:
        print(f"wrote {w}")
    return 0


def cmd_replay(args) -> int:
    from hwsim.report.replays import replay_cli
    return replay_cli(args)


def cmd_trace(args) -> int:
    from hwsim.trace.generate import generate_cli
    return generate_cli(args)


def cmd_sweep(args) -> int:
    from hwsim.sweep.runner import sweep_cli
    return sweep_cli(args)


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwsim", description="Cycle-level simulator of analog "
                                "in-memory training accelerators: accuracy, latency, energy.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train a network on an accelerator (default: quickstart)")
    r.add_argument("experiment", nargs="?", help="experiment YAML (default: shipped quickstart)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    r.add_argument("--epochs", type=int)
    r.add_argument("--seed", type=int)
    r.add_argument("--out")
    r.add_argument("--data", help="data directory (MNIST IDX files); also HWSIM_DATA")
    r.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    r.add_argument("--trace", help="record the issued operations to this trace file")
    r.add_argument("--timeline", help="write a Chrome trace-event timeline (Perfetto)")
    r.add_argument("--vcd", help="write busy signals per component as VCD")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--allow-large", action="store_true", help="run beyond the size budgets "
                   "(tile count, memory) that validation otherwise refuses")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("validate", help="check an accelerator, experiment, sweep or network "
                       "file as run/sweep/trace would read it")
    v.add_argument("file")
    v.add_argument("--kind", choices=("accelerator", "experiment", "sweep", "network"),
                   help="kind of file (default: detected from its keys)")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    v.add_argument("--expand", action="store_true", help="print the explicit form")
    v.add_argument("--data", help="data directory (as for run; also HWSIM_DATA)")
    v.add_argument("--allow-large", action="store_true", help="accept sizes over the budgets")
    v.set_defaults(func=cmd_validate)
    d = sub.add_parser("describe", help="parameters of a component kind or section")
    d.add_argument("kind", nargs="?")
    d.set_defaults(func=cmd_describe)
    s = sub.add_parser("schema", help="JSON Schema of the YAML files")
    s.add_argument("which", nargs="?", default="accelerator")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_schema)
    g = sub.add_parser("graph", help="component graph as Graphviz DOT (and SVG with dot)")
    g.add_argument("accelerator")
    g.add_argument("-o", "--output", default="arch.dot")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    g.set_defaults(func=cmd_graph)
    rp = sub.add_parser("replay", help="latency/energy/area of a training trace on an "
                        "accelerator")
    rp.add_argument("accelerator", help="accelerator YAML")
    rp.add_argument("trace", help="trace file (.jsonl.gz, see traces/README.md)")
    rp.add_argument("-o", "--out", help="output directory (default runs/replay-<trace>)")
    rp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override an accelerator key")
    rp.add_argument("--no-progress", action="store_true")
    rp.add_argument("--timeline", help="write a Chrome trace-event timeline (Perfetto)")
    rp.add_argument("--vcd", help="write busy signals per component as VCD")
    rp.add_argument("--no-cache", action="store_true",
                    help="simulate every op (no reuse of identical ops; same results, slower)")
    rp.set_defaults(func=cmd_replay)
    tr = sub.add_parser("trace", help="training traces: generate from network shapes")
    tsub = tr.add_subparsers(dest="trace_cmd", required=True)
    tg = tsub.add_parser("generate", help="op stream of an algorithm for a network of shapes")
    tg.add_argument("network", help="network YAML (configs/networks/*.yaml)")
    tg.add_argument("--batch", type=int, required=True)
    tg.add_argument("--steps", type=int, required=True)
    tg.add_argument("--algorithm", required=True, help="sgd, tiki-taka, ttv2, c-ttv2, agad, "
                    "float")
    tg.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="algorithm or statistics-model parameter (see `hwsim trace generate "
                    "--help-model`)")
    tg.add_argument("-o", "--out", required=True, help="trace file to write (.jsonl.gz)")
    tg.set_defaults(func=cmd_trace)
    sw = sub.add_parser("sweep", help="design-space sweep: grid of points, Pareto front, plots")
    sw.add_argument("sweep", help="sweep YAML (configs/sweeps/*.yaml)")
    sw.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="run on a Dask distributed scheduler (pip install .[dask])")
    sw.add_argument("-o", "--out", help="output directory (default runs/sweeps/<sweep>)")
    sw.add_argument("--retry-failed", action="store_true", help="run failed points again")
    sw.add_argument("--no-plots", action="store_true")
    sw.add_argument("--no-progress", action="store_true")
    sw.set_defaults(func=cmd_sweep)
    return p


def main(argv=None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HwsimError as exc:
        print(f"hwsim: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover
        os._exit(0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
