"""Pareto front of the evaluated design points (layer 6).

Each objective is minimised or maximised.  Maximised objectives are negated, so
that everything below minimises.  Point *a* **dominates** point *b* when

    a_k <= b_k  for every objective k   and   a_k < b_k  for at least one k.

The front is the set of points no other point dominates.  Ties: two points with
identical objective vectors do not dominate each other, so both are on the front
(or both off it); a point equal to another in one objective and worse in the
other is dominated.

Algorithms (Kung, Luccio & Preparata, "On finding the maxima of a set of
vectors", J. ACM 22(4), 1975):

* **two objectives** — O(n log n): sort by (f₁, f₂); walk the groups of equal f₁
  in increasing order while keeping the smallest f₂ seen in *earlier* groups,
  ``best``.  Inside a group only the points with the group's smallest f₂ can be
  on the front (the others are dominated by them), and they are on it exactly
  when that f₂ < ``best`` (an earlier point has smaller f₁ and f₂ <= theirs
  otherwise).
* **k > 2 objectives** — the simple O(k·n²) pairwise test, vectorised per point
  with NumPy; sweeps have at most a few thousand points, where this takes
  milliseconds.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

SENSES = ("min", "max")


def _as_minimisation(values, senses) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be an (n_points, n_objectives) array, got shape {v.shape}")
    if v.shape[1] != len(senses):
        raise ValueError(f"{v.shape[1]} objective columns but {len(senses)} senses")
    bad = [s for s in senses if s not in SENSES]
    if bad:
        raise ValueError(f"an objective sense is 'min' or 'max', got {bad[0]!r}")
    if not np.all(np.isfinite(v)):
        raise ValueError("objective values must be finite (drop failed points first)")
    sign = np.array([1.0 if s == "min" else -1.0 for s in senses])
    return v * sign


def dominates(a: Sequence[float], b: Sequence[float], senses: Sequence[str]) -> bool:
    """True when objective vector ``a`` dominates ``b`` (see module docstring)."""
    v = _as_minimisation([a, b], senses)
    return bool(np.all(v[0] <= v[1]) and np.any(v[0] < v[1]))


def _front_2d(v: np.ndarray) -> np.ndarray:
    order = np.lexsort((v[:, 1], v[:, 0]))       # by f1, then f2
    on = np.zeros(len(v), dtype=bool)
    best = np.inf
    i = 0
    n = len(order)
    while i < n:
        f1 = v[order[i], 0]
        j = i
        while j < n and v[order[j], 0] == f1:
            j += 1
        group_min = v[order[i], 1]               # sorted by f2 inside the group
        if group_min < best:
            k = i
            while k < j and v[order[k], 1] == group_min:
                on[order[k]] = True
                k += 1
            best = group_min
        i = j
    return on


def _front_general(v: np.ndarray) -> np.ndarray:
    on = np.ones(len(v), dtype=bool)
    for i in range(len(v)):
        le = np.all(v <= v[i], axis=1)
        lt = np.any(v < v[i], axis=1)
        if np.any(le & lt):
            on[i] = False
    return on


def pareto_mask(values, senses: Sequence[str], method: str = "auto") -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n_points × n_objectives).

    ``method`` is ``"auto"`` (sort-and-sweep for two objectives, pairwise otherwise),
    ``"sweep"`` (two objectives only) or ``"pairwise"`` (any number; the oracle).
    """
    v = _as_minimisation(values, senses) if len(values) else np.zeros((0, len(senses)))
    if len(v) == 0:
        return np.zeros(0, dtype=bool)
    if method == "auto":
        method = "sweep" if v.shape[1] == 2 else "pairwise"
    if method == "sweep":
        if v.shape[1] != 2:
            raise ValueError("the sort-and-sweep front needs exactly two objectives")
        return _front_2d(v)
    if method == "pairwise":
        if v.shape[1] == 1:
            return v[:, 0] == v[:, 0].min()
        return _front_general(v)
    raise ValueError(f"method is 'auto', 'sweep' or 'pairwise', got {method!r}")


def pareto_front(values, senses: Sequence[str], method: str = "auto") -> list[int]:
    """Indices (ascending) of the non-dominated rows of ``values``."""
    return [int(i) for i in np.flatnonzero(pareto_mask(values, senses, method))]
