"""``hwsim sweep SWEEP.yaml [--workers N] [--scheduler ADDR] [-o OUT]`` (layer 6).

Every point is an independent job (:func:`hwsim.sweep.evaluate.evaluate_point`),
run by a local :class:`concurrent.futures.ProcessPoolExecutor` (``--workers N``,
default ``os.cpu_count()``) or by a Dask distributed cluster (``--scheduler
ADDRESS``; Dask is the optional extra ``pip install .[dask]``, imported only then).

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
from hwsim.sweep.outputs import assemble, write_plots, write_tables
from hwsim.sweep.spec import SweepSpec

RESULTS = "results.jsonl"


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


def _init_worker() -> None:
    """One BLAS thread per worker process: N workers on N cores must not oversubscribe
    them with OpenBLAS's own threads (the replays' small products gain nothing from them)."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1, user_api="blas")


def _run_local(tasks, workers: int, record) -> None:
    """Bounded in-flight submission; a dead worker fails only the points in flight."""
    queue = list(reversed(tasks))
    while queue:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
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


def _run_dask(tasks, scheduler, record) -> None:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise HwsimError("--scheduler needs Dask: pip install .[dask]") from None
    own = not hasattr(scheduler, "submit")
    client = Client(scheduler) if own else scheduler
    try:
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
            _run_dask(tasks, scheduler, record)
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
