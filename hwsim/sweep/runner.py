"""``hwsim sweep SWEEP.yaml [--workers N] [--scheduler ADDR] [-o OUT]`` (layer 6).

Every point is an independent job (:func:`hwsim.sweep.evaluate.evaluate_point`),
run by a local :class:`concurrent.futures.ProcessPoolExecutor` (``--workers N``,
default ``os.cpu_count()``) or by a Dask distributed cluster (``--scheduler
ADDRESS``, or ``--scheduler local`` for a Dask cluster of ``--workers`` processes
started by the sweep; Dask is the optional extra ``pip install .[dask]``, imported
only then).  An address that is malformed or does not answer within
:data:`SCHEDULER_TIMEOUT_S` seconds is one error line.  The worker processes the sweep
starts (local pool, ``local`` cluster) die with it, also on ``kill -9``
(:mod:`hwsim.sweep.workers`).

**Nothing finished is lost.**  Only this (parent) process writes
``OUT/results.jsonl``: one JSON line per finished point, written with a single
``write`` on an ``O_APPEND`` descriptor and ``fsync``-ed before the next point is
recorded, so a ``kill -9`` loses at most the points still running.  A line cut
short by a crash mid-write is dropped (truncated) when the sweep starts again.
Re-running skips every id already recorded; ``--retry-failed`` runs failed points
again (the newest line of an id wins).  A failing point is recorded with
``status: failed`` and its error and does not stop the sweep.  The out directory
belongs to one sweep: its fingerprint (base files, fixed overrides, seed) is stored
in every line, and results of a different base are refused rather than mixed.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

from hwsim.errors import ConfigError, HwsimError
from hwsim.sweep.evaluate import evaluate_point
from hwsim.sweep.outputs import assemble, write_tables
from hwsim.sweep.plots import write_plots
from hwsim.sweep.spec import SweepSpec
from hwsim.sweep.workers import die_with_parent, owned_call

RESULTS = "results.jsonl"
LOCAL = "local"                 # --scheduler local: a Dask cluster of this process
SCHEDULER_TIMEOUT_S = 5         # connecting to a --scheduler address


class ResultLog:
    """The append-only ``results.jsonl`` of one out directory."""

    def __init__(self, out: Path):
        self.path = Path(out) / RESULTS
        self._fd = None

    def read(self) -> dict:
        """id -> newest record; repairs a torn last line left by a crash."""
        records = {}
        if not self.path.exists():
            return records
        with open(self.path, "rb") as fh:
            data = fh.read()
        good = data.rfind(b"\n") + 1
        if good < len(data):                      # a line cut short by kill -9
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
                os.fsync(fh.fileno())
        for n, line in enumerate(data[:good].splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                records[rec["id"]] = rec
            except (ValueError, KeyError):
                raise HwsimError(f"line {n} is not a sweep result", file=str(self.path)) from None
        return records

    def append(self, rec: dict) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = (json.dumps(rec, sort_keys=True, default=str) + "\n").encode()
        n = os.write(self._fd, line)
        if n != len(line):  # pragma: no cover - regular files write fully
            raise OSError(f"short write to {self.path}")
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _tasks(spec: SweepSpec, todo, out: Path, fingerprint: str) -> list[dict]:
    base = asdict(spec.base)
    return [{"base": base, "id": p.id, "params": p.params, "seed": p.seed,
             "out": str(out), "sweep": fingerprint} for p in todo]


def _failed(task, error: str) -> dict:
    return {"id": task["id"], "params": task["params"], "seed": task["seed"],
            "sweep": task["sweep"], "status": "failed", "metrics": None, "breakdown": None,
            "error": error, "wall_s": None}


def _init_worker(parent: int | None = None) -> None:
    """The worker dies with the sweep process (:mod:`hwsim.sweep.workers`), and uses one
    BLAS thread: N workers on N cores must not oversubscribe them with OpenBLAS's own
    threads (the replays' small products gain nothing from them)."""
    die_with_parent(parent)
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1, user_api="blas")


def _run_local(tasks, workers: int, record) -> None:
    """Bounded in-flight submission; a dead worker fails only the points in flight."""
    queue = list(reversed(tasks))
    while queue:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                 initargs=(os.getpid(),)) as pool:
            inflight = {}
            try:
                while queue or inflight:
                    while queue and len(inflight) < 2 * workers:
                        t = queue.pop()
                        inflight[pool.submit(evaluate_point, t)] = t
                    done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in done:
                        record(fut.result())
                        del inflight[fut]
            except BrokenProcessPool as exc:
                for t in inflight.values():
                    record(_failed(t, f"worker process died ({exc}); re-run with "
                                   "--retry-failed to try again"))


def _client(scheduler, workers: int | None):
    """(client, cluster we started or None) for ``--scheduler``: an address, ``local``
    (a Dask cluster of this process, ``workers`` processes) or a Client."""
    from dask.distributed import Client, LocalCluster
    if hasattr(scheduler, "submit"):
        return scheduler, None
    if scheduler == LOCAL:
        cluster = LocalCluster(n_workers=max(1, workers or os.cpu_count() or 1),
                               threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s"), None
    except (OSError, ValueError, TypeError) as exc:      # unreachable / malformed address
        raise HwsimError(f"cannot use Dask scheduler '{scheduler}': {exc}".rstrip(".")
                         + f" (give host:port, e.g. tcp://10.0.0.5:8786, or '{LOCAL}')",
                         key="--scheduler") from None


def _run_dask(tasks, scheduler, record, workers: int | None = None) -> None:
    try:
        from dask.distributed import as_completed
    except ImportError:
        raise HwsimError("--scheduler needs Dask: pip install .[dask]") from None
    client, cluster = _client(scheduler, workers)
    own = client is not scheduler
    try:
        if cluster is not None:      # our own workers die with this process
            futs = {client.submit(owned_call, os.getpid(), evaluate_point, t, pure=False): t
                    for t in tasks}
        else:
            futs = {client.submit(evaluate_point, t, pure=False): t for t in tasks}
        for fut in as_completed(list(futs)):
            t = futs[fut]
            try:
                record(fut.result())
            except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError...
                record(_failed(t, f"dask: {type(exc).__name__}: {exc}"))
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(spec: SweepSpec, out, *, workers: int | None = None, scheduler=None,
              progress: bool = True, retry_failed: bool = False, plots: bool = True,
              notice=print) -> list[dict]:
    """Run the points of ``spec`` not yet in ``out/results.jsonl``; write every output.

    ``scheduler`` is a Dask scheduler address or a ``dask.distributed.Client``;
    otherwise ``workers`` local processes (default ``os.cpu_count()``).
    Returns the rows of :func:`hwsim.sweep.outputs.assemble` (grid order).
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = ResultLog(out)
    fingerprint = spec.fingerprint()
    records = log.read()
    foreign = [r for r in records.values() if r.get("sweep") != fingerprint]
    if foreign:
        raise ConfigError(f"{out} holds results of a different sweep base ({len(foreign)} "
                          "points; base files, fixed overrides or seed changed): use another "
                          "-o directory or delete it", file=spec.file, key="base")
    skip = {"ok"} if retry_failed else {"ok", "failed"}
    todo = [p for p in spec.points if records.get(p.id, {}).get("status") not in skip]
    todo_ids = {p.id for p in todo}
    bar = None
    counts = {"done": len(spec.points) - len(todo),
              "failed": sum(1 for p in spec.points if p.id not in todo_ids
                            and records[p.id]["status"] == "failed")}
    if progress and todo:
        from tqdm import tqdm
        bar = tqdm(total=len(spec.points), initial=counts["done"], unit="pt", desc=spec.name,
                   mininterval=0.2)

    def record(rec):
        log.append(rec)
        records[rec["id"]] = rec
        counts["done"] += 1
        counts["failed"] += rec["status"] == "failed"
        if bar is not None:
            bar.set_postfix(done=counts["done"], failed=counts["failed"],
                            remaining=len(spec.points) - counts["done"], refresh=False)
            bar.update(1)

    tasks = _tasks(spec, todo, out, fingerprint)
    try:
        if tasks and scheduler is not None:
            _run_dask(tasks, scheduler, record, workers)
        elif tasks:
            _run_local(tasks, max(1, workers or os.cpu_count() or 1), record)
    finally:
        log.close()
        if bar is not None:
            bar.close()
    rows = assemble(spec, records)
    write_tables(spec, rows, out)
    if plots:
        write_plots(spec, rows, out, notice=notice)
    return rows
