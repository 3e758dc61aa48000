"""Counter-based random numbers shared bit for bit by the kernels and their oracles.

The compiled update kernels need one random number per pulse-train slot and per device
pulse.  Drawing them through a ``numpy.random.Generator`` one by one would cost a Python
call each, so the kernels use a *counter-based* generator instead: the caller draws a
64-bit ``key`` from its Generator, and the random word for event number ``c`` is

    rand64(key, c) = mix64(key + (c + 1)·φ64)      (mod 2⁶⁴)

with φ64 = 0x9E3779B97F4A7C15 and ``mix64`` the SplitMix64 finaliser (Steele, Lea &
Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).  It is a pure
function of (key, c), so the kernel (C, uint64 arithmetic) and the NumPy oracle
(vectorised uint64 arithmetic) produce identical words whatever the visiting order.

* Bernoulli slot: the low and the high 32 bits of one word are two uniform integers
  u ∈ [0, 2³²); a slot with probability p fires when ``u < floor(p·2³²)``.
* Normal ξ: the top 12 bits select a cell k of an inverse-CDF table of N(0, 1) with
  4096 equal-probability cells, the next 32 bits a position f inside it:
  ``ξ = t[k] + f·s[k]`` (linear interpolation, ``s[k] = t[k+1] − t[k]``).  The outermost
  nodes are set so each tail cell keeps its exact conditional mean, so E[ξ] = 0 exactly by
  symmetry and Var[ξ] = 1 within 1e-3.  Only additions and multiplications: no libm call,
  so C and NumPy agree to the last bit.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

PHI64 = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
TABLE_BITS = 12
TABLE_CELLS = 1 << TABLE_BITS
TWO32 = 4294967296.0


def _normal_table() -> tuple[np.ndarray, np.ndarray]:
    nd = NormalDist()
    t = np.empty(TABLE_CELLS + 1)
    for k in range(1, TABLE_CELLS):
        t[k] = nd.inv_cdf(k / TABLE_CELLS)
    # tail cell [0, 1/T): its linear piece has mean (t0 + t1)/2 = E[Z | Z < t1] = -φ(t1)·T
    t[0] = 2.0 * (-nd.pdf(t[1]) * TABLE_CELLS) - t[1]
    t[TABLE_CELLS] = -t[0]
    t[TABLE_CELLS // 2] = 0.0
    return np.ascontiguousarray(t[:-1]), np.ascontiguousarray(np.diff(t))


#: Inverse-CDF nodes t[k] and slopes s[k] (k < 4096) used by kernels and oracles.
NORMAL_NODES, NORMAL_SLOPES = _normal_table()


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def rand64(key, counter) -> np.ndarray:
    """Word number ``counter`` of the stream ``key`` (both uint64)."""
    c = np.asarray(counter, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix64(np.uint64(key) + (c + np.uint64(1)) * PHI64)


def normal_from_words(h: np.ndarray) -> np.ndarray:
    """N(0, 1) values from 64-bit words (table inverse CDF, see module docstring)."""
    h = np.asarray(h, dtype=np.uint64)
    k = (h >> np.uint64(64 - TABLE_BITS)).astype(np.intp)
    f = ((h >> np.uint64(20)) & np.uint64(0xFFFFFFFF)).astype(np.float64) * (1.0 / TWO32)
    return NORMAL_NODES[k] + f * NORMAL_SLOPES[k]


def bernoulli_thresholds(p: np.ndarray) -> np.ndarray:
    """uint64 thresholds floor(p·2³²) for probabilities p ∈ [0, 1] (validated here)."""
    p = np.asarray(p, dtype=np.float64)
    if p.size and (not np.all(np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0):
        raise ValueError("pulse probabilities must be finite and within [0, 1]")
    return np.floor(p * TWO32).astype(np.uint64)


def draw_key(rng: np.random.Generator) -> np.uint64:
    """One 64-bit stream key from the caller's Generator."""
    return np.uint64(rng.integers(0, 2**64, dtype=np.uint64))


def normal_table_moments() -> tuple[float, float]:
    """Exact mean and variance of the table distribution (piecewise-uniform in f)."""
    a, s = NORMAL_NODES, NORMAL_SLOPES
    mean = float(np.mean(a + 0.5 * s))
    second = float(np.mean(a * a + a * s + s * s / 3.0))
    return mean, second - mean * mean


assert math.isclose(normal_table_moments()[1], 1.0, abs_tol=2e-3)
