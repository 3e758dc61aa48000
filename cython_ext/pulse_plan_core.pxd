# Per-sample plan of the stochastic pulse trains (PHYSICS.md §2 steps 1–4), shared by
# cython_ext/pulse_plan.pyx (stochastic_plan) and cython_ext/pulsed_update.pyx (the
# planned update: plan and pulses in one call).  The equations are in pulse_plan.pyx's
# docstring; the NumPy oracle is hwsim/physics/pulse_trains.py (equal bit for bit).
from libc.math cimport sqrt, ceil, fabs
from libc.float cimport DBL_MAX
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t

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


cdef inline int64_t stochastic_plan_core(const double* x, const double* d, Py_ssize_t nb,
                                         Py_ssize_t n, Py_ssize_t m, double lr, double eps,
                                         int bl_max, bint fixed_bl, bint update_management,
                                         uint64_t* thr_rows, uint64_t* thr_cols,
                                         int8_t* sign_rows, int8_t* sign_cols,
                                         int32_t* bl) noexcept nogil:
    """Thresholds, signs and train lengths of B samples (x: B×N, d: B×M, C order).
    Returns the clipped samples (k > BL_max), or −1 (x not finite), −2 (d not finite),
    −3 (a probability not finite)."""
    cdef Py_ssize_t b
    cdef bint x_ok = True, d_ok = True
    cdef double x_m, d_m, k, k_ceil, a, bb, dscale, root
    cdef int blb
    cdef int64_t clipped = 0
    cdef bint ok = True, active
    for b in range(nb):
        x_m = line_max(x + b * n, n, &x_ok)
        d_m = line_max(d + b * m, m, &d_ok)
        k = lr * x_m * d_m / eps
        active = k > 0.0
        if k > bl_max:
            clipped += 1
        if not active:
            bl[b] = 0
            signs(d + b * m, m, thr_rows + b * m, sign_rows + b * m)
            signs(x + b * n, n, thr_cols + b * n, sign_cols + b * n)
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
        ok &= thresholds(d + b * m, m, a * dscale, thr_rows + b * m, sign_rows + b * m)
        ok &= thresholds(x + b * n, n, bb, thr_cols + b * n, sign_cols + b * n)
    if not x_ok:
        return -1
    if not d_ok:
        return -2
    return clipped if ok else -3
