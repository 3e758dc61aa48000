"""Benchmark: engine overhead per transaction vs bare SimPy doing the same events.

A 5-stage pipeline of components (L = II = 1 cycle at 1 GHz, no actions) carries N
single-item operations submitted at t = 0 through ``hwsim.sim.engine.Simulator``
(burst mode).  Per stage and transaction the engine does one ``Store.put`` + one
``Store.get`` and one ``timeout`` (the forward to the next stage), plus per operation
a handle, a completion timeout and a done event.  The bare-SimPy reference does, per
stage and transaction, exactly a ``Store.get``, a ``timeout`` and a ``Store.put`` in a
process per stage.  Both run in the same process, interleaved, medians of repeats.

Target: the engine reaches ≥ 50 % of bare SimPy's transaction rate.  ``--profile``
prints where the engine's time goes (cProfile, top functions by own time).

    PYTHONPATH=. python benchmarks/bench_engine.py [--txns 20000] [--repeats 5] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

import simpy

from hwsim.core import ActionLedger, Clock, Component
from hwsim.sim.engine import Simulator

STAGES = 5


class _Stage(Component):
    """A pipeline register: one cycle of latency, one item per cycle, no actions."""
    KIND = "BenchStage"
    OPS = ("move",)

    def timing(self, txn):
        return 1, 1


def run_engine(n_txns: int) -> float:
    """Seconds to push ``n_txns`` operations through the 5-stage pipeline."""
    clock = Clock("digital", 1e9)
    ledger = ActionLedger()
    comps = {f"s{i}": _Stage(f"s{i}", None, clock, ledger) for i in range(STAGES)}
    route = tuple(comps)
    t0 = time.perf_counter()
    sim = Simulator(comps, ledger=ledger)
    for _ in range(n_txns):
        sim.submit("move", 1, route)
    end = sim.run()
    dt = time.perf_counter() - t0
    assert sim.ops_done == n_txns
    assert end == (STAGES + n_txns - 1) * 1000          # pipeline closed form
    return dt


def run_bare(n_txns: int) -> float:
    """Seconds for bare SimPy: per stage and transaction a get, a timeout and a put."""
    t0 = time.perf_counter()
    env = simpy.Environment()
    stores = [simpy.Store(env) for _ in range(STAGES + 1)]

    def stage(i):
        src, dst = stores[i], stores[i + 1]
        while True:
            item = yield src.get()
            yield env.timeout(1000)
            dst.put(item)

    for i in range(STAGES):
        env.process(stage(i))
    for k in range(n_txns):
        stores[0].put(k)
    env.run()
    dt = time.perf_counter() - t0
    assert len(stores[-1].items) == n_txns
    return dt


def profile_engine(n_txns: int, top: int = 15) -> str:
    prof = cProfile.Profile()
    prof.enable()
    run_engine(n_txns)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--txns", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    run_engine(1000)
    run_bare(1000)                                        # warm-up
    eng, bare = [], []
    for _ in range(args.repeats):
        eng.append(run_engine(args.txns))
        bare.append(run_bare(args.txns))
    t_eng, t_bare = statistics.median(eng), statistics.median(bare)
    r_eng, r_bare = args.txns / t_eng, args.txns / t_bare
    ev_bare = 3 * STAGES * args.txns                       # get + timeout + put per stage
    print(f"{STAGES}-stage pipeline, {args.txns} transactions, median of {args.repeats}")
    print(f"  engine     : {t_eng * 1e3:8.1f} ms  {r_eng:10.0f} txn/s")
    print(f"  bare SimPy : {t_bare * 1e3:8.1f} ms  {r_bare:10.0f} txn/s  "
          f"({ev_bare / t_bare:.0f} store/timeout ops/s)")
    ratio = r_eng / r_bare
    print(f"  engine / bare SimPy rate: {ratio:.2f}  (target >= 0.50: "
          f"{'met' if ratio >= 0.5 else 'NOT met'})")
    if args.profile or ratio < 0.5:
        print(profile_engine(args.txns))


if __name__ == "__main__":
    main()
