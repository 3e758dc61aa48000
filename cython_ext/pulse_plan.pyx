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
from libc.math cimport sqrt, ceil, fabs
from libc.float cimport DBL_MAX
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t

#: status codes (negative returns) of the plan functions
X_NOT_FINITE = -1
D_NOT_FINITE = -2
P_NOT_FINITE = -3


cdef inline double line_max(const double* v, Py_ssize_t n, bint* finite) noexcept nogil:
    """max |v| over one line (four independent chains: max is exact in any order);
    clears ``finite`` when some |v| > DBL_MAX (inf or NaN)."""
    cdef double m0 = 0.0, m1 = 0.0, m2 = 0.0, m3 = 0.0, a0, a1, a2, a3
    cdef bint ok = True
    cdef Py_ssize_t j = 0
    while j + 4 <= n:
        a0, a1, a2, a3 = fabs(v[j]), fabs(v[j + 1]), fabs(v[j + 2]), fabs(v[j + 3])
        ok &= (a0 <= DBL_MAX) & (a1 <= DBL_MAX) & (a2 <= DBL_MAX) & (a3 <= DBL_MAX)
        m0 = a0 if a0 > m0 else m0
        m1 = a1 if a1 > m1 else m1
        m2 = a2 if a2 > m2 else m2
        m3 = a3 if a3 > m3 else m3
        j += 4
    while j < n:
        a0 = fabs(v[j])
        ok &= a0 <= DBL_MAX
        m0 = a0 if a0 > m0 else m0
        j += 1
    finite[0] &= ok
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


cdef inline int8_t sign8(double v) noexcept nogil:
    return <int8_t>((v > 0.0) - (v < 0.0))


cdef inline bint thresholds(const double* v, Py_ssize_t n, double scale, uint64_t* thr,
                            int8_t* sgn) noexcept nogil:
    """thr = floor(min(scale·|v|, 1)·2³²) and sign(v); False when a p is NaN."""
    cdef Py_ssize_t j
    cdef double p
    cdef bint ok = True
    for j in range(n):
        p = scale * fabs(v[j])
        ok &= p == p                   # np.minimum(p, 1.0) would keep a NaN
        p = p if p < 1.0 else 1.0
        # 0 ≤ p·2³² ≤ 2³²: truncation is floor, and a signed conversion is one instruction
        thr[j] = <uint64_t><int64_t>(p * 4294967296.0)
        sgn[j] = sign8(v[j])
    return ok


cdef inline void signs(const double* v, Py_ssize_t n, uint64_t* thr, int8_t* sgn) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        thr[j] = 0
        sgn[j] = sign8(v[j])


def stochastic_plan(const double[:, ::1] x, const double[:, ::1] d, double lr, double eps,
                    int bl_max, bint fixed_bl, bint update_management,
                    uint64_t[:, ::1] thr_rows, uint64_t[:, ::1] thr_cols,
                    int8_t[:, ::1] sign_rows, int8_t[:, ::1] sign_cols, int32_t[::1] bl):
    """Thresholds, signs and train lengths of the stochastic trains of a mini-batch
    (x: (B, N), d: (B, M)).  Returns the number of clipped samples (k > BL_max), or
    X_NOT_FINITE / D_NOT_FINITE / P_NOT_FINITE."""
    cdef Py_ssize_t nb = x.shape[0], n = x.shape[1], m = d.shape[1], b
    cdef bint x_ok = True, d_ok = True
    cdef double x_m, d_m, k, k_ceil, a, bb, dscale, root
    cdef int blb
    cdef int64_t clipped = 0
    cdef bint ok = True, active
    with nogil:
        for b in range(nb):
            x_m = line_max(&x[b, 0], n, &x_ok)
            d_m = line_max(&d[b, 0], m, &d_ok)
            k = lr * x_m * d_m / eps
            active = k > 0.0
            if k > bl_max:
                clipped += 1
            if not active:
                bl[b] = 0
                signs(&d[b, 0], m, &thr_rows[b, 0], &sign_rows[b, 0])
                signs(&x[b, 0], n, &thr_cols[b, 0], &sign_cols[b, 0])
                continue
            if fixed_bl:
                blb = bl_max
            else:
                k_ceil = ceil(k)
                blb = <int>k_ceil if k_ceil < bl_max else bl_max
            bl[b] = blb
            a = sqrt(lr / (eps * <double>(blb if blb > 1 else 1)))
            bb = a
            dscale = 1.0
            if update_management:
                if k > bl_max:
                    dscale = bl_max / k
                root = sqrt(x_m / (d_m * dscale))
                a = a * root
                bb = bb / root
            ok &= thresholds(&d[b, 0], m, a * dscale, &thr_rows[b, 0], &sign_rows[b, 0])
            ok &= thresholds(&x[b, 0], n, bb, &thr_cols[b, 0], &sign_cols[b, 0])
    if not x_ok:
        return X_NOT_FINITE
    if not d_ok:
        return D_NOT_FINITE
    return clipped if ok else P_NOT_FINITE


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
