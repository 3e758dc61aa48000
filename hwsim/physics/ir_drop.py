"""IR drop on crossbar wires: first-order analytical model, exact nodal solve, cache.

Geometry (forward read of W, M output lines × N input lines; normalized units where a
device of weight |w| = 1 has conductance 1 and every wire segment resistance
``r = r_wire/R_device``): input line j is driven with V_j at the end before output
line 0 and runs through nodes a_0j … a_(M−1)j; output line i is held at virtual
ground by its sense amplifier beyond input line N−1 and runs through nodes
b_i0 … b_i(N−1).  Every gap between neighbouring nodes, and between the end node and
the driver / sense amplifier, is one segment r.  Device (i, j) joins a_ij and b_ij.

First-order model (the analytical approach of TxSim, Roy et al., IEEE TVLSI 29(9),
2021): with the zeroth-order device currents I_ij = g_ij V_j, the current in a wire
segment is the sum of the device currents it carries, and the voltage drop at a node
is r × the sum of segment currents between it and the line end::

    a_ij = V_j (1 − r A_ij),   A_ij = Σ_{k≤i} Σ_{i'≥k} g_i'j      (input line, exact in V_j)
    b_ij = r Σ_{k≥j} Σ_{j'≤k} g_ij' V_j'                            (output line)

With a uniform reference input (all lines at the same voltage — the full-scale case
of TxSim's effective-conductance step) the output-line term becomes ``V_j r B_ij``,
``B_ij = Σ_{k≥j} Σ_{j'≤k} g_ij'``, and the array acts as the effective matrix::

    g_eff_ij = g_ij · max(0, 1 − r (A_ij + B_ij))

used with plain BLAS, ``y = G_eff x``.  Signed weights are a differential pair of
arrays G⁺ = max(w, 0), G⁻ = max(−w, 0), each with its own wires (device off-state
conductance neglected): W_eff = G⁺_eff − G⁻_eff.

Although B uses a uniform reference, the *line current* y_i is first-order exact for
any input: the output-line error Σ_j Σ_j' g_ij g_ij' (N − max(j, j')) (V_j' − V_j) is a
symmetric kernel times an antisymmetric factor and vanishes.  So ‖y_eff − y_exact‖ is
O(r²) (the first neglected order of the Neumann series), while ignoring IR drop is O(r);
the tests measure both against :func:`nodal_solve`.  The clip at 0 only matters far
outside the model's range (r·Σg ≳ 1).

The transposed read (Wᵀ d: output lines driven from their sense-amplifier end, input
lines sensed at their driver end) is the same circuit rotated by 180°:
``G_eff,T = rot180(first_order(rot180(Gᵀ)))ᵀ``.
"""
from __future__ import annotations

import numpy as np
from hwsim.errors import NonFiniteError

#: exact nodal solves are dense: at most this many devices (e.g. 32×32)
MAX_EXACT_DEVICES = 1024


def _check_weights(w, name="w") -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise NonFiniteError(f"{name} contains NaN or inf")
    return w


def _check_ratio(ratio) -> float:
    if not (np.isfinite(ratio) and ratio >= 0):
        raise ValueError(f"IR-drop ratio r_wire/R_device must be finite and ≥ 0, got {ratio!r}")
    return float(ratio)


def _rot(g: np.ndarray, transposed: bool) -> np.ndarray:
    """Map the transposed read onto the forward geometry (180° rotation of Gᵀ)."""
    return g.T[::-1, ::-1] if transposed else g


def first_order_conductance(g, ratio: float) -> np.ndarray:
    """Effective conductance ``g ⊙ max(0, 1 − r(A + B))`` of a nonnegative array (forward)."""
    g = _check_weights(g, "g")
    if np.any(g < 0):
        raise ValueError("conductances must be ≥ 0")
    r = _check_ratio(ratio)
    beyond = np.cumsum(g[::-1, :], axis=0)[::-1, :]          # Σ_{i'≥k} g_i'j
    a_load = np.cumsum(beyond, axis=0)                        # A_ij
    before = np.cumsum(g, axis=1)                             # Σ_{j'≤k} g_ij'
    b_load = np.cumsum(before[:, ::-1], axis=1)[:, ::-1]      # B_ij
    return g * np.maximum(0.0, 1.0 - r * (a_load + b_load))


def effective_matrix(w, ratio: float, *, transposed: bool = False) -> np.ndarray:
    """W_eff (same shape as ``w``) of the differential pair for a forward or transposed read."""
    w = _check_weights(w)
    r = _check_ratio(ratio)
    if r == 0.0:
        return w.copy()
    out = np.zeros_like(w)
    for sign, g in ((1.0, np.maximum(w, 0.0)), (-1.0, np.maximum(-w, 0.0))):
        if np.any(g):
            eff = first_order_conductance(_rot(g, transposed), r)
            out += sign * (eff[::-1, ::-1].T if transposed else eff)
    return out


def _nodal_currents(g: np.ndarray, r: float, v: np.ndarray) -> np.ndarray:
    """Exact output currents (B, M) of a nonnegative array in forward geometry."""
    m, n = g.shape
    nn = m * n
    idx = np.arange(nn).reshape(m, n)
    a_idx, b_idx = idx, idx + nn
    gw = 1.0 / r
    mat = np.zeros((2 * nn, 2 * nn))
    rhs = np.zeros((2 * nn, v.shape[0]))
    # device conductances between a_ij and b_ij
    mat[a_idx, a_idx] += g
    mat[b_idx, b_idx] += g
    mat[a_idx, b_idx] -= g
    mat[b_idx, a_idx] -= g
    # input lines: segments along i, driver before i = 0
    for lo, hi in ((a_idx[:-1, :], a_idx[1:, :]), (b_idx[:, :-1], b_idx[:, 1:])):
        mat[lo, lo] += gw
        mat[hi, hi] += gw
        mat[lo, hi] -= gw
        mat[hi, lo] -= gw
    mat[a_idx[0, :], a_idx[0, :]] += gw
    rhs[a_idx[0, :], :] += gw * v.T
    # output lines: sense amplifier (0 V) beyond j = N-1
    mat[b_idx[:, -1], b_idx[:, -1]] += gw
    nodes = np.linalg.solve(mat, rhs)
    return (nodes[b_idx[:, -1], :] * gw).T


def nodal_solve(w, ratio: float, x, *, transposed: bool = False) -> np.ndarray:
    """Exact read currents of the wire network (dense nodal analysis), small arrays only.

    ``x`` is (N,) or (B, N) for the forward read (``(M,)``/``(B, M)`` transposed); the
    result is (B, M) (or (B, N)).  Signed weights use the differential pair.
    """
    w = _check_weights(w)
    r = _check_ratio(ratio)
    if w.size > MAX_EXACT_DEVICES:
        raise ValueError(f"exact nodal solve is for small arrays (≤ {MAX_EXACT_DEVICES} "
                         f"devices), got {w.shape}")
    x = np.asarray(x, dtype=np.float64)
    x2 = x[None, :] if x.ndim == 1 else x
    k = w.shape[0] if transposed else w.shape[1]
    if x2.ndim != 2 or x2.shape[1] != k:
        raise ValueError(f"inputs must have {k} columns for a {'transposed' if transposed else 'forward'} "
                         f"read of a {w.shape} array, got shape {x.shape}")
    if not np.all(np.isfinite(x2)):
        raise NonFiniteError("inputs contain NaN or inf")
    if r == 0.0:
        return x2 @ (w if transposed else w.T)
    xin = x2[:, ::-1] if transposed else x2
    out = np.zeros((x2.shape[0], w.shape[1] if transposed else w.shape[0]))
    for sign, g in ((1.0, np.maximum(w, 0.0)), (-1.0, np.maximum(-w, 0.0))):
        if np.any(g):
            y = _nodal_currents(_rot(g, transposed), r, xin)
            out += sign * (y[:, ::-1] if transposed else y)
    return out


class IRDropCache:
    """Holds W_eff and recomputes it only when needed (PHYSICS.md §3, TxSim).

    Recompute when any weight moved by more than ``tolerance`` (max |w − w_ref|) since
    the last computation, or after ``every`` weight updates (:meth:`note_update`).
    ``recomputes`` counts the computations (simulation cost, not hardware work).
    """

    def __init__(self, ratio: float, tolerance: float = 1e-3, every: int = 100):
        self.ratio = _check_ratio(ratio)
        if not (np.isfinite(tolerance) and tolerance >= 0):
            raise ValueError(f"tolerance must be ≥ 0, got {tolerance!r}")
        if int(every) < 1:
            raise ValueError(f"every must be ≥ 1 update, got {every!r}")
        self.tolerance = float(tolerance)
        self.every = int(every)
        self.recomputes = 0
        self._w_ref: np.ndarray | None = None
        self._eff: dict[bool, np.ndarray] = {}
        self._updates = 0

    @classmethod
    def from_config(cls, cfg) -> "IRDropCache":
        """From an :class:`~hwsim.config.periphery.MVMConfig`."""
        return cls(cfg.ir_drop, cfg.ir_drop_tolerance, cfg.ir_drop_every)

    def note_update(self, n: int = 1) -> None:
        """Record ``n`` weight updates (pulsed updates of the array)."""
        self._updates += int(n)

    def stale(self, w: np.ndarray) -> bool:
        """True when W_eff must be recomputed for weights ``w``."""
        if self._w_ref is None or self._w_ref.shape != w.shape:
            return True
        if self._updates >= self.every:
            return True
        return bool(np.max(np.abs(w - self._w_ref)) > self.tolerance)

    def get(self, w, *, transposed: bool = False) -> np.ndarray:
        """W_eff for a forward (or transposed) read of weights ``w``."""
        w = _check_weights(w)
        if self.stale(w):
            self._w_ref = w.copy()
            self._eff = {}
            self._updates = 0
        if transposed not in self._eff:
            self._eff[transposed] = effective_matrix(self._w_ref, self.ratio, transposed=transposed)
            self.recomputes += 1
        return self._eff[transposed]
