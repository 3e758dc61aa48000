"""Mini-batches of arrays in a seeded order (layer 5), shared by every data set."""
from __future__ import annotations

from typing import Iterator

import numpy as np


def iterate_batches(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator | None,
                    shuffle: bool = True, drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches ``(x[idx], y[idx])``; the order is ``rng.permutation(n)`` if ``shuffle``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(x)
    if shuffle:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("shuffled batches need a numpy.random.Generator")
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]
