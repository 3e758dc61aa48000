# Pulse-train plans of the parallel update (PHYSICS.md §2 steps 1–4), computed in one
# pass over x and d.  The NumPy oracle is hwsim/physics/pulse_trains.py
# (plan_stochastic_trains + bernoulli_thresholds, plan_mean_count); both agree bit for bit.
"""Per-sample pulse-train plans of ΔW = −η d xᵀ (Gokmen & Vlasov, Front. Neurosci.
10:333, 2016), for the compiled update kernels of ``pulsed_update``.

Per sample b with x_m = max|x|, d_m = max|d| and granularity ε:

    k  = η·x_m·d_m/ε;   BL = min(ceil(k), BL_max) (BL_max when fixed), 0 when k ≤ 0
    A = B = sqrt(η/(ε·max(BL, 1)))
    update management: s = BL_max/k if k > BL_max else 1,  r = x_m/(d_m·s),
                       A ← A·sqrt(r),  B ← B/sqrt(r)
    p_i = min(A·s·|d_i|, 1),  p_j = min(B·|x_j|, 1),  threshold = floor(p·2³²)

Mean counts: a_i = (η·s/ε)·|d_i| (s only with update management), c_j = |x_j|,
BL = min(⌊a_m c_m + ½⌋, BL_max), row slots Σ_i min(⌊a_i c_m + ½⌋, BL_max), column slots
Σ_j min(⌊a_m c_j + ½⌋, BL_max).

The same IEEE operations in the same order as the NumPy plan (no contraction: plain
x86-64 has no FMA), so thresholds, signs and train lengths are identical.  Each input
is checked for NaN/inf (|v| > DBL_MAX) in the same pass that finds its maxima.
"""
from libc.math cimport fabs
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t

from pulse_plan_core cimport line_max, sign8, stochastic_plan_core

#: status codes (negative returns) of the plan functions
X_NOT_FINITE = -1
D_NOT_FINITE = -2
P_NOT_FINITE = -3


def stochastic_plan(const double[:, ::1] x, const double[:, ::1] d, double lr, double eps,
                    int bl_max, bint fixed_bl, bint update_management,
                    uint64_t[:, ::1] thr_rows, uint64_t[:, ::1] thr_cols,
                    int8_t[:, ::1] sign_rows, int8_t[:, ::1] sign_cols, int32_t[::1] bl):
    """Thresholds, signs and train lengths of the stochastic trains of a mini-batch
    (x: (B, N), d: (B, M)).  Returns the number of clipped samples (k > BL_max), or
    X_NOT_FINITE / D_NOT_FINITE / P_NOT_FINITE."""
    cdef Py_ssize_t nb = x.shape[0], n = x.shape[1], m = d.shape[1]
    cdef int64_t res
    if d.shape[0] != nb or thr_rows.shape[0] != nb or thr_rows.shape[1] != m or \
            thr_cols.shape[0] != nb or thr_cols.shape[1] != n or sign_rows.shape[0] != nb or \
            sign_rows.shape[1] != m or sign_cols.shape[0] != nb or sign_cols.shape[1] != n \
            or bl.shape[0] != nb:
        raise ValueError("stochastic_plan: array shapes do not match x (B, N) and d (B, M)")
    if nb == 0:
        return 0
    with nogil:
        res = stochastic_plan_core(&x[0, 0], &d[0, 0], nb, n, m, lr, eps, bl_max, fixed_bl,
                                   update_management, &thr_rows[0, 0], &thr_cols[0, 0],
                                   &sign_rows[0, 0], &sign_cols[0, 0], &bl[0])
    return res


cdef inline int64_t capped_round(double v, int bl_max) noexcept nogil:
    """min(⌊v + ½⌋, BL_max) as an integer, for v ≥ 0 (truncation is floor there)."""
    v = v + 0.5
    if v >= bl_max + 1.0:
        return bl_max
    return <int64_t>v


def mean_count_plan(const double[:, ::1] x, const double[:, ::1] d, double lr, double eps,
                    int bl_max, bint update_management, double[:, ::1] row_amp,
                    double[:, ::1] col_amp, int8_t[:, ::1] sign_rows, int8_t[:, ::1] sign_cols,
                    int32_t[::1] bl, int64_t[::1] active_rows, int64_t[::1] active_cols,
                    int64_t[::1] totals):
    """Amplitudes, signs and train lengths of the mean-count trains (x: (B, N), d: (B, M)).
    totals = (clipped samples, Σ row slots, Σ column slots); active_rows/cols count the
    non-zero amplitudes.  Returns 0, X_NOT_FINITE or D_NOT_FINITE."""
    cdef Py_ssize_t nb = x.shape[0], n = x.shape[1], m = d.shape[1], b, i, j
    cdef bint x_ok = True, d_ok = True
    cdef double x_m, d_m, k, scale, amp, a_m, c_m, v
    cdef int64_t clipped = 0, rslots = 0, cslots = 0, cnt
    with nogil:
        for b in range(nb):
            x_m = line_max(&x[b, 0], n, &x_ok)
            d_m = line_max(&d[b, 0], m, &d_ok)
            k = lr * x_m * d_m / eps
            scale = 1.0
            if k > bl_max:
                clipped += 1
                if update_management:
                    scale = bl_max / k
            amp = lr * scale / eps
            a_m = 0.0
            cnt = 0
            for i in range(m):
                v = amp * fabs(d[b, i])
                row_amp[b, i] = v
                sign_rows[b, i] = sign8(d[b, i])
                cnt += v != 0.0
                if v > a_m:
                    a_m = v
            active_rows[b] = cnt
            c_m = 0.0
            cnt = 0
            for j in range(n):
                v = fabs(x[b, j])
                col_amp[b, j] = v
                sign_cols[b, j] = sign8(x[b, j])
                cnt += v != 0.0
                if v > c_m:
                    c_m = v
            active_cols[b] = cnt
            bl[b] = <int32_t>capped_round(a_m * c_m, bl_max)
            for i in range(m):
                rslots += capped_round(row_amp[b, i] * c_m, bl_max)
            for j in range(n):
                cslots += capped_round(a_m * col_amp[b, j], bl_max)
    if not x_ok:
        return X_NOT_FINITE
    if not d_ok:
        return D_NOT_FINITE
    totals[0] = clipped
    totals[1] = rslots
    totals[2] = cslots
    return 0
