"""Fingerprint of a short MNIST training run, to check that a speed change is bit-identical.

Trains ``--samples`` samples (one epoch) of configs/mnist_mlp_<algo>.yaml (digits_<algo>.yaml
for the algorithms without an MNIST experiment: float, HIC, SBPCA) with timing and
energy on and prints hashes of everything the run produced: the loss, the final tick and
per-phase ticks, every ledger row (action counts, float sums included), every component's
statistics and ``free_at``, and the pickled network (weights, device state, counters).
``--precision float64`` runs the reference precision (run.precision).  Run it against
two trees and compare the lines:

    PYTHONPATH=/tmp/base python benchmarks/fingerprint.py c-ttv2 --samples 1000
    PYTHONPATH=.         python benchmarks/fingerprint.py c-ttv2 --samples 1000

The hwsim imported is the one on ``PYTHONPATH`` (configs and data come from this tree).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))      # after PYTHONPATH: PYTHONPATH=other/tree wins


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
    return h.hexdigest()[:16]


ALGOS = ("float", "sgd", "tiki-taka", "ttv2", "c-ttv2", "agad", "mixed-precision", "hic", "sbpca")


def config_path(algo: str) -> Path:
    """The MNIST MLP experiment of ``algo`` where one is shipped, else its digits experiment."""
    stem = algo.replace("-", "_")
    for name in (f"mnist_mlp_{stem}.yaml", f"digits_{stem}.yaml", f"{stem}_digits.yaml"):
        if (ROOT / "configs" / name).exists():
            return ROOT / "configs" / name
    raise SystemExit(f"fingerprint: no shipped experiment for {algo!r}")


def _imports():
    """The same functions under the tree's module names (``hwsim.build`` became
    ``hwsim.elaborate``), so that one script compares trees from before and after."""
    try:
        from hwsim.elaborate.graph import build_machine
        from hwsim.elaborate.mapping import map_layers
    except ModuleNotFoundError:
        from hwsim.build.graph import build_machine
        from hwsim.build.mapping import map_layers
    return build_machine, map_layers


def _ledger_rows(ledger):
    rows = getattr(ledger, "rows", None)
    return sorted(rows().items()) if callable(rows) else sorted(ledger._counts.items())


def _arrays(obj, seen=None):
    """Every numpy array reachable from ``obj`` (attributes, containers), as digests."""
    import numpy as np
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [_digest(obj.dtype.str, obj.shape, np.ascontiguousarray(obj).tobytes())]
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
    elif hasattr(obj, "__dict__") or hasattr(obj, "__slots__"):
        if type(obj).__module__.startswith(("simpy", "numpy.random")):
            return []
        items = list(getattr(obj, "__dict__", {}).values())
        items += [getattr(obj, k) for k in getattr(type(obj), "__slots__", ()) if hasattr(obj, k)]
    else:
        return []
    out = []
    for it in items:
        out += _arrays(it, seen)
    return out


def fingerprint(algo: str, samples: int, precision: str | None = None) -> str:
    build_machine, map_layers = _imports()
    from hwsim.config.experiment import load_experiment
    from hwsim.sim.hardware import Hardware
    from hwsim.training.runner import prepare, stream, train_epoch
    overrides = {"run.precision": precision} if precision else None
    cfg = load_experiment(str(config_path(algo)), overrides)
    prep = prepare(cfg)
    ds = prep.dataset
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:samples],
                                       train_y=ds.train_y[:samples])
    acc = prep.accelerator
    shapes = [(s.name, s.out_features, s.in_features) for s in prep.network.layer_shapes()]
    mapping = map_layers(shapes, prep.algorithm.ROLES, acc.tile.rows, acc.tile.cols,
                         acc.tile.count)
    hw = Hardware(build_machine(acc), mapping, cache=acc.engine.cache)
    prep.context.hw = hw
    loss, _ = train_epoch(prep, hw, stream(0, "data"))
    hw.sync()
    rows = _ledger_rows(hw.machine.ledger)
    comps = sorted(hw.machine.components.items())
    ledger = _digest(*rows)
    stats = _digest(*[(p, sorted(c.stats.values.items()), c.free_at) for p, c in comps])
    # the same without component paths: equal when only names changed (chip.noc -> ...)
    ledger_values = _digest(*sorted(repr((key[1:], val)) for key, val in rows))
    stats_values = _digest(*sorted(repr((sorted(c.stats.values.items()), c.free_at))
                                   for _, c in comps))
    try:
        net = _digest(pickle.dumps(prep.network))
    except TypeError:       # the float baseline's weights hold the hardware (not picklable)
        net = _digest(*[(la.name, la.backend.weights().tobytes(),
                         repr(getattr(la, "bias", None)))
                        for la in prep.network.analog_layers()])
    # arrays of the layers only (weights, device state, counters): equal when classes moved
    arrays = _digest(*sorted(a for la in prep.network.analog_layers()
                             for a in _arrays(la, {id(prep.context), id(hw)})))
    return (f"{algo} loss {loss!r} ticks {hw.now} phases {sorted(hw.phase_ticks.items())} "
            f"ledger {ledger} stats {stats} network {net} | by value: ledger {ledger_values} "
            f"stats {stats_values} arrays {arrays}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("algos", nargs="?", default="all",
                    help="comma-separated names, or 'all': " + ", ".join(ALGOS))
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--precision", choices=("float32", "float64"), default=None,
                    help="run.precision (default: the experiment's, i.e. float32); float64 "
                    "reproduces the fingerprints from before issue 17")
    a = ap.parse_args()
    for algo in (ALGOS if a.algos == "all" else a.algos.split(",")):
        print(fingerprint(algo, a.samples, a.precision), flush=True)


if __name__ == "__main__":
    main()
