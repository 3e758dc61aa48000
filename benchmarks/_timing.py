"""Shared timing helper of the benchmark scripts (run as ``python benchmarks/X.py``)."""
from __future__ import annotations

import statistics
import time


def median_time(fn, repeats: int = 5, before=None) -> float:
    """Median wall time of ``repeats`` calls of ``fn()`` in seconds (time.perf_counter);
    ``before()``, if given, runs untimed ahead of every call."""
    ts = []
    for _ in range(repeats):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)
