"""Wall time per 8k-sample epoch of the MNIST MLP 784-256-128-10 (batch 10), per algorithm.

Runs one epoch of configs/mnist_mlp_<algo>.yaml (MNIST t10k: 8000 training samples)
with timing and energy on (ops executed on the SimPy engine after every batch) and
prints the wall time, the share spent in ``hw.flush`` and the ratio to analog SGD
measured in the same run.  Targets: c-TTv2 ≤ 3.5 s, SGD ≤ 1.5 s per 8k samples.

    python benchmarks/bench_training.py [--samples 8000] [--repeats 1] [--no-timing]
                                        [--breakdown] [--precision float32,float64]

``--precision`` (run.precision) takes one precision or a comma-separated list; with
several, each repeat runs them one after the other (A/B alternation on a loaded machine)
and the medians and ranges are printed per precision.

``--breakdown`` also prints where the wall time goes (network forward and backward,
the algorithm's update and within it the pulsed updates, count writes and column
reads, the op timing), measured by wrapping those calls, per 8k samples, and the time
spent inside the compiled kernels (every call into ``hwsim._ext``, the BLAS products of
the fused reads included): the run's compiled floor, the rest being Python and NumPy.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ALGOS = ("sgd", "ttv2", "c-ttv2", "agad", "mixed-precision")


def _hardware(prep):
    from hwsim.elaborate.graph import build_machine
    from hwsim.elaborate.mapping import map_layers
    from hwsim.sim.hardware import Hardware
    acc = prep.accelerator
    shapes = [(s.name, s.out_features, s.in_features) for s in prep.network.layer_shapes()]
    mapping = map_layers(shapes, prep.algorithm.ROLES, acc.tile.rows, acc.tile.cols,
                         acc.tile.count)
    return Hardware(build_machine(acc), mapping, cache=acc.engine.cache)


class _Timed:
    """Wraps hw.flush to measure the time spent executing ops."""

    def __init__(self, hw):
        self.hw, self.flush_s = hw, 0.0

    def __getattr__(self, name):
        return getattr(self.hw, name)

    def flush(self):
        t = time.perf_counter()
        r = self.hw.flush()
        self.flush_s += time.perf_counter() - t
        return r


def _breakdown(algo: str, samples: int, timing: bool) -> None:
    br = _Breakdown()
    try:
        wall, flush = run(algo, samples, timing, on_prepared=br.wrap_update)
    finally:
        br.restore()
    scale = 8000 / samples
    print(f"  breakdown of one more run ({wall * scale:.2f} s / 8k):")
    order = ("algorithm update", "  pulsed updates", "  count writes", "  column reads",
             "network forward (MVMs)", "network backward (MVMs)",
             "compiled (kernels, BLAS)")
    for label in order:
        if label in br.t:
            print(f"    {label:26s} {br.t[label] * scale:6.2f} s")
    print(f"    {'op timing (hw.flush)':26s} {flush * scale:6.2f} s")


def run(algo: str, samples: int, timing: bool, on_prepared=None,
        precision: str | None = None) -> tuple[float, float]:
    from hwsim.config.experiment import load_experiment
    from hwsim.training.runner import prepare, stream, train_epoch
    from hwsim.training.algorithms.base import NullHardware
    cfg = load_experiment(str(ROOT / "configs" / f"mnist_mlp_{algo.replace('-', '_')}.yaml"),
                          {"run.precision": precision} if precision else None)
    prep = prepare(cfg)
    import dataclasses
    ds = prep.dataset
    prep.dataset = dataclasses.replace(ds, train_x=ds.train_x[:samples],
                                       train_y=ds.train_y[:samples])
    if on_prepared is not None:
        on_prepared(prep.algorithm)
    hw = _Timed(_hardware(prep)) if timing else NullHardware()
    prep.context.hw = hw
    t, c = time.perf_counter(), time.process_time()
    train_epoch(prep, hw, stream(0, "data"))
    LAST_CPU[0] = time.process_time() - c
    return time.perf_counter() - t, (hw.flush_s if isinstance(hw, _Timed) else 0.0)


#: CPU time (process_time) of the last :func:`run`'s epoch: a loaded machine inflates
#: wall time far more than CPU time
LAST_CPU = [0.0]


class _Breakdown:
    """Wall time inside a few training calls (wrapped for the run, restored after)."""

    def __init__(self):
        import collections
        from hwsim.training import network
        from hwsim.training.algorithms import analog
        self.t = collections.Counter()
        self.saved = []
        for obj, name, label in ((network.Network, "forward", "network forward (MVMs)"),
                                 (network.Network, "backward", "network backward (MVMs)"),
                                 (analog.AnalogArray, "pulsed_update", "  pulsed updates"),
                                 (analog.AnalogArray, "apply_pulses", "  count writes"),
                                 (analog.AnalogArray, "read_columns", "  column reads")):
            self._wrap(obj, name, label)
        self.wrap_kernels()

    def _wrap(self, obj, name, label):
        f = getattr(obj, name)
        self.saved.append((obj, name, f))

        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                self.t[label] += time.perf_counter() - t
        setattr(obj, name, timed)

    def wrap_kernels(self):
        """Every function of the compiled modules (callers look them up on the module at
        call time): the time inside them is the run's compiled floor, BLAS products of
        the fused reads included; everything else is Python and NumPy glue."""
        import importlib
        for mod in ("quantize", "pulsed_update", "pulse_plan", "pulse_counts",
                    "digital_accumulator"):
            m = importlib.import_module(f"hwsim._ext.{mod}")
            for name in dir(m):
                f = getattr(m, name)
                if not name.startswith("_") and callable(f) and type(f).__name__ in (
                        "builtin_function_or_method", "cython_function_or_method"):
                    self._wrap(m, name, "compiled (kernels, BLAS)")

    def wrap_update(self, algo):
        self._wrap(type(algo), "update", "algorithm update")

    def restore(self):
        for obj, name, f in reversed(self.saved):
            setattr(obj, name, f)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--algos", default=",".join(ALGOS))
    ap.add_argument("--breakdown", action="store_true")
    ap.add_argument("--precision", default="", help="run.precision, or a comma-separated "
                    "list to alternate (default: the experiments' own, float32)")
    a = ap.parse_args()
    if "," in a.precision:
        _alternate(a)
        return
    res = {}
    for algo in a.algos.split(","):
        runs = [run(algo, a.samples, not a.no_timing, precision=a.precision or None)
                for _ in range(a.repeats)]
        wall = statistics.median(r[0] for r in runs) * 8000 / a.samples
        fl = statistics.median(r[1] for r in runs) * 8000 / a.samples
        res[algo] = wall
        print(f"{algo:16s} {wall:7.2f} s / 8k samples   (hw.flush {fl:6.2f} s)", flush=True)
        if a.breakdown:
            _breakdown(algo, a.samples, not a.no_timing)
    if "sgd" in res:
        for algo, w in res.items():
            print(f"{algo:16s} ratio to sgd {w / res['sgd']:5.2f}")


def _alternate(a) -> None:
    """Each algorithm: ``repeats`` rounds, every precision once per round."""
    precisions = a.precision.split(",")
    scale = 8000 / a.samples
    for algo in a.algos.split(","):
        walls = {p: [] for p in precisions}
        cpus = {p: [] for p in precisions}
        for _ in range(a.repeats):
            for p in precisions:
                walls[p].append(run(algo, a.samples, not a.no_timing, precision=p)[0] * scale)
                cpus[p].append(LAST_CPU[0] * scale)
        for what, t in (("wall", walls), ("CPU", cpus)):
            line = [f"{algo:16s} {what:4s}"]
            for p in precisions:
                w = t[p]
                line.append(f"{p} {statistics.median(w):6.2f} s ({min(w):.2f}–{max(w):.2f})")
            ref = statistics.median(t[precisions[-1]])
            line.append(f"ratio {precisions[0]}/{precisions[-1]} "
                        f"{statistics.median(t[precisions[0]]) / ref:.2f}")
            print("   ".join(line), "  s / 8k samples", flush=True)


if __name__ == "__main__":
    main()
