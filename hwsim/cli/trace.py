"""``hwsim trace generate NETWORK``: the op stream of an algorithm from layer shapes, with
the expected data statistics of :mod:`hwsim.training.algorithms.symbolic` (no numerics run)."""
from __future__ import annotations

import argparse

from hwsim.api import generate_trace
from hwsim.cli.common import add_progress_option
from hwsim.config.overrides import parse_set_args
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.algorithms.symbolic import MODEL


def _epilog() -> str:
    model = ", ".join(f"{k}={v}" for k, v in MODEL.items())
    return (f"--param keys (defaults): statistics model: {model}; and the algorithm's own "
            "parameters (`hwsim describe ALGORITHM`); "
            "samples=N: the last mini-batch holds the rest of N samples.")


def register(sub) -> None:
    p = sub.add_parser("trace", help="training traces: generate from network shapes",
                       description=__doc__)
    tsub = p.add_subparsers(dest="trace_cmd", required=True)
    g = tsub.add_parser("generate", help="op stream of an algorithm for a network of shapes",
                        description=__doc__, epilog=_epilog())
    g.add_argument("network", help="network YAML (configs/networks/*.yaml) or ONNX model (.onnx)")
    g.add_argument("--seq", type=int,
                   help="length of an ONNX model's dynamic token dimension")
    g.add_argument("--batch", type=int, required=True, help="mini-batch size (samples)")
    g.add_argument("--steps", type=int, required=True, help="number of mini-batches")
    g.add_argument("--algorithm", required=True,
                   help=f"training algorithm whose ops to generate: {', '.join(ALGORITHMS)}")
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="statistics-model or algorithm parameter, repeatable (keys and "
                   "defaults: see the end of this help)")
    g.add_argument("--tile", metavar="ROWSxCOLS", type=_tile,
                   help="tiles of the accelerator the trace is for, e.g. 256x256: layers "
                   "larger than a tile issue their reads and transfers per tile, as a run "
                   "on those tiles does (default: one array per layer)")
    g.add_argument("-o", "--out", required=True, metavar="FILE",
                   help="trace file to write (.jsonl.gz)")
    add_progress_option(g)
    g.set_defaults(func=execute)


def _tile(text: str) -> tuple:
    """``ROWSxCOLS`` → (rows, cols), both ≥ 1."""
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS (e.g. 256x256), got {text!r}") \
            from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"tile rows and cols must be >= 1, got {text!r}")
    return rows, cols


def execute(args) -> int:
    params = parse_set_args(args.param)
    samples = params.pop("samples", None)
    t = generate_trace(args.network, algorithm=args.algorithm, batch=args.batch,
                       steps=args.steps, out=args.out, samples=samples, params=params,
                       progress=not args.no_progress, seq=args.seq, tile=args.tile)
    print(f"wrote {t.path}: {t.ops} ops, {t.steps} steps, {t.samples} samples, {t.bytes} bytes")
    return 0
