# Device state and one-pulse arithmetic shared by the pulsed-update kernels
# (cython_ext/pulsed_update*.pyx: stochastic trains; cython_ext/pulse_counts*.pyx: mean
# and explicit counts), written once for the state precision ``real``: included by
# pulse_device.pxd (``ctypedef double real``) and pulse_device32.pxd (``ctypedef float
# real``), which also name the AVX-512 loops of that precision (pulse_simd.h).
# The equations are in pulsed_update.pyx's docstring; the NumPy oracle is
# hwsim/physics/update_oracle.py (equal bit for bit in both precisions).
#
# Every operation is one IEEE operation in ``real``: literals are cast to real, and
# exp/pow/sqrt/fabs are evaluated in double and rounded once to real (what the oracle
# does: NumPy float32 arithmetic, libm in float64, then astype).  The normal variate ξ
# is the float64 draw of the (node, slope) table rounded once to real, so both
# precisions use the same noise words and the same normal distribution.
from libc.math cimport exp, pow, sqrt, fabs
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t, uint8_t

# Step functions q±(w) of the device models (hwsim/devices/: each model module names its
# code as hwsim.devices.KernelCode, compared with model_codes() below at import).
cdef enum:
    MODEL_CONSTANT = 0
    MODEL_LINEAR = 1
    MODEL_EXP = 2
    MODEL_POW = 3
    MODEL_PIECEWISE = 4
    MODEL_RPOWER = 5
    MODEL_REXP = 6


cdef inline dict kernel_model_codes():
    """The codes above by name (each kernel module's ``model_codes()``)."""
    return {"CONSTANT": MODEL_CONSTANT, "LINEAR": MODEL_LINEAR, "EXP": MODEL_EXP,
            "POW": MODEL_POW, "PIECEWISE": MODEL_PIECEWISE, "RPOWER": MODEL_RPOWER,
            "REXP": MODEL_REXP}

ctypedef struct Dev:
    real* w
    const real* dw_up
    const real* dw_dn
    const real* bmin
    const real* bmax
    const real* pu
    const real* pd
    const real* nodes_up
    const real* nodes_dn
    int n_up
    int n_dn
    const double* table      # interleaved (node, slope) pairs: one cache line per draw
    int tshift               # 64 − log2(cells): the top bits of a word pick the cell
    int64_t* counter
    uint8_t* touched
    int code
    int lumped
    real sigma, sadd, sslope, A_up, A_dn, g_up, g_dn, eb


cdef inline real exp_r(real x) noexcept nogil:
    return <real>exp(<double>x)


cdef inline real pow_r(real x, real y) noexcept nogil:
    return <real>pow(<double>x, <double>y)


cdef inline real fabs_r(real x) noexcept nogil:
    return <real>fabs(<double>x)


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL
    return x ^ (x >> 31)


cdef inline uint64_t rand64(uint64_t key, uint64_t ctr) noexcept nogil:
    return mix64(key + (ctr + 1) * 0x9E3779B97F4A7C15ULL)   # φ


cdef inline int popcount64(uint64_t x) noexcept nogil:
    x = x - ((x >> 1) & 0x5555555555555555ULL)
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL
    return <int>((x * 0x0101010101010101ULL) >> 56)


cdef extern from *:
    """
    static inline int hwsim_ctz64(unsigned long long x) { return __builtin_ctzll(x); }
    """
    int hwsim_ctz64(unsigned long long x) noexcept nogil


cdef inline real normal(const Dev* dv, uint64_t h) noexcept nogil:
    cdef Py_ssize_t k = <Py_ssize_t>(h >> dv.tshift)
    cdef double f = <double>((h >> 20) & 0xFFFFFFFFULL) * (1.0 / 4294967296.0)
    return <real>(dv.table[2 * k] + f * dv.table[2 * k + 1])


cdef inline real interp(const real* nodes, int n, real u) noexcept nogil:
    if u < 0:
        u = 0
    if u > 1:
        u = 1
    cdef real pos = u * <real>(n - 1)
    cdef int k = <int>pos
    if k > n - 2:
        k = n - 2
    cdef real f = pos - <real>k
    return nodes[k] + f * (nodes[k + 1] - nodes[k])


cdef inline real q_step(const Dev* dv, bint up, real w, Py_ssize_t idx) noexcept nogil:
    cdef real q, z, v
    cdef real one = 1
    cdef int code = dv.code
    if code == MODEL_CONSTANT:
        return one
    if code == MODEL_LINEAR:
        q = one - (dv.pu[idx] if up else dv.pd[idx]) * w
    elif code == MODEL_EXP:
        z = dv.pu[idx] * w + dv.eb
        if up:
            q = one - dv.A_up * exp_r(dv.g_up * z)
        else:
            q = one - dv.A_dn * exp_r(-dv.g_dn * z)
    elif code == MODEL_POW:
        v = (dv.bmax[idx] - w) * dv.pu[idx] if up else (w - dv.bmin[idx]) * dv.pu[idx]
        if v < 0:
            v = 0
        return pow_r(v, dv.pd[idx])
    elif code == MODEL_PIECEWISE:
        v = (w - dv.bmin[idx]) * dv.pu[idx]
        if up:
            return interp(dv.nodes_up, dv.n_up, v)
        return interp(dv.nodes_dn, dv.n_dn, v)
    elif code == MODEL_RPOWER:
        v = one - dv.pu[idx] * w if up else one + dv.pu[idx] * w
        if v < 0:
            v = 0
        return pow_r(v, dv.pd[idx])
    else:                                   # MODEL_REXP
        v = one - dv.pu[idx] * w if up else one + dv.pu[idx] * w
        q = (exp_r(dv.pd[idx] * v) - one) / (exp_r(dv.pd[idx]) - one)
    if q < 0:
        q = 0
    return q


cdef inline void finish(Dev* dv, Py_ssize_t idx, bint up, real w, real base, real std,
                        uint64_t key, uint64_t ctr) noexcept nogil:
    cdef real lo = dv.bmin[idx], hi = dv.bmax[idx]
    cdef real sgn = 1
    if std > 0:
        base = base + std * normal(dv, rand64(key, ctr))
    # w - base == w + (-1)*base exactly: branch-free direction
    if not up:
        sgn = -1
    w = w + sgn * base
    w = lo if w < lo else w
    dv.w[idx] = hi if w > hi else w


cdef inline void one_pulse(Dev* dv, Py_ssize_t idx, bint up, uint64_t key,
                           uint64_t ctr) noexcept nogil:
    cdef real w = dv.w[idx]
    cdef real dev = dv.dw_up[idx] if up else dv.dw_dn[idx]
    cdef real base = dev * q_step(dv, up, w, idx)
    cdef real std = dv.sigma * base + dev * (dv.sadd + dv.sslope * fabs_r(w))
    finish(dv, idx, up, w, base, std, key, ctr)


cdef inline void n_pulses(Dev* dv, Py_ssize_t idx, bint up, int64_t n, uint64_t key,
                          uint64_t ctr0) noexcept nogil:
    """n pulses in a row (counters ctr0 + k) or one lumped ConstantStep step."""
    cdef real w, dev, std
    cdef int64_t k
    if dv.lumped:
        w = dv.w[idx]
        dev = dv.dw_up[idx] if up else dv.dw_dn[idx]
        std = (dv.sigma * dev + dev * (dv.sadd + dv.sslope * fabs_r(w))) * \
            <real>sqrt(<double>n)
        finish(dv, idx, up, w, dev * <real>n, std, key, ctr0)
    else:
        for k in range(n):
            one_pulse(dv, idx, up, key, ctr0 + <uint64_t>k)
    if dv.counter != NULL:
        dv.counter[idx] += n
    if dv.touched != NULL:
        dv.touched[idx] = 1


cdef inline void make_dev(Dev* dv, real[:, ::1] w, const real[:, ::1] dw_up,
                   const real[:, ::1] dw_dn, const real[:, ::1] bmin,
                   const real[:, ::1] bmax, const real[:, ::1] pu, const real[:, ::1] pd,
                   const real[::1] scalars, const real[::1] nodes_up,
                   const real[::1] nodes_dn, const double[::1] table,
                   int64_t[:, ::1] counter, uint8_t[:, ::1] touched,
                   int code, int lumped) noexcept:
    dv.w = &w[0, 0]
    dv.dw_up = &dw_up[0, 0]
    dv.dw_dn = &dw_dn[0, 0]
    dv.bmin = &bmin[0, 0]
    dv.bmax = &bmax[0, 0]
    dv.pu = &pu[0, 0]
    dv.pd = &pd[0, 0]
    dv.nodes_up = &nodes_up[0]
    dv.nodes_dn = &nodes_dn[0]
    dv.n_up = <int>nodes_up.shape[0]
    dv.n_dn = <int>nodes_dn.shape[0]
    dv.table = &table[0]
    cdef Py_ssize_t cells = table.shape[0] // 2
    dv.tshift = 64
    while cells > 1:
        cells >>= 1
        dv.tshift -= 1
    dv.counter = &counter[0, 0] if counter.shape[0] > 0 else NULL
    dv.touched = &touched[0, 0] if touched.shape[0] > 0 else NULL
    dv.code = code
    dv.lumped = lumped
    dv.sigma, dv.sadd, dv.sslope = scalars[0], scalars[1], scalars[2]
    dv.A_up, dv.A_dn, dv.g_up, dv.g_dn, dv.eb = scalars[3], scalars[4], scalars[5], \
        scalars[6], scalars[7]
