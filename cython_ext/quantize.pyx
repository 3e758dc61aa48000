# Periphery kernels: DAC / ADC clip-and-quantize, noise add, saturation count.
#
# NumPy twins (the test oracles) live in hwsim/physics/quantize.py and perform the
# same floating-point operations in the same order, so that with the same noise
# arrays the two backends agree bit for bit.
#
# Quantizer: uniform mid-tread levels symmetric around 0,
#     q(t) = round(clip(t, -b, b) * inv_delta) * delta,  delta = b / (2^(bits-1) - 1),
# i.e. 2^bits - 1 levels (one code of a bits-wide two's-complement word unused) and
# 2^bits - 2 steps across [-b, b].  delta == 0 disables quantization (clip only).
# round() is round-half-to-even done as (u + 1.5*2^52) - 1.5*2^52 (exact for
# |u| < 2^51, i.e. bits <= 52): two SIMD-friendly adds instead of a libm rint()
# call; the NumPy twin does the same two adds, so results agree bit for bit (also
# for -0).  The row loops are plain C (restrict pointers, branch-free; the line
# sums and copies vectorize under gcc -O3); FMA contraction is switched off so the
# operations stay those of the twin.
#
# Gaussian noise drawn inside a kernel comes from the caller's numpy Generator: its
# bit generator feeds our own ziggurat sampler (Marsaglia & Tsang, J. Stat. Softw.
# 5(8), 2000, 256 layers).  numpy's Generator.standard_normal cost ~16 ns per draw
# on the 2-core development VM, alone more than the MVM periphery budget; with
# pre-drawn noise arrays the kernels stay bitwise comparable to the twin.
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.float cimport DBL_MAX
from libc.math cimport exp, fabs, log, sqrt
from libc.stdint cimport uint32_t, uint64_t
from numpy.random cimport bitgen_t

import numpy as np

cdef extern from *:
    """
    #ifndef HWSIM_CYTHON_VERSION
    #define HWSIM_CYTHON_VERSION "unknown"
    #endif
    """
    const char* HWSIM_CYTHON_VERSION

#: version of the Cython that compiled the kernels (setup.py passes it to the C compiler)
BUILT_WITH_CYTHON = HWSIM_CYTHON_VERSION.decode()

# --- ziggurat tables -------------------------------------------------------------
cdef enum:
    ZIG_LAYERS = 256
cdef double ZIG_R = 3.6541528853610088      # start of the tail (Marsaglia & Tsang 2000)
cdef double ZIG_V = 4.92867323399e-3         # area of every layer
cdef double zig_x[ZIG_LAYERS + 1]            # right edge of each layer
cdef double zig_ratio[ZIG_LAYERS]            # x[i+1] / x[i]: fast-accept threshold


cdef void _build_tables():
    # Layer i spans [0, x[i]] horizontally and [f(x[i]), f(x[i+1])] vertically,
    # f(x) = exp(-x^2/2); layer 0 is the base strip plus the tail beyond R, given
    # the pseudo-width V / f(R) so that all layers have area V.
    cdef int i
    cdef double f = exp(-0.5 * ZIG_R * ZIG_R)
    zig_x[0] = ZIG_V / f
    zig_x[1] = ZIG_R
    for i in range(2, ZIG_LAYERS):
        zig_x[i] = sqrt(-2.0 * log(ZIG_V / zig_x[i - 1] + f))
        f = exp(-0.5 * zig_x[i] * zig_x[i])
    zig_x[ZIG_LAYERS] = 0.0
    for i in range(ZIG_LAYERS):
        zig_ratio[i] = zig_x[i + 1] / zig_x[i]


_build_tables()


def ziggurat_table():
    """The layer edges x[0..256] (for tests)."""
    return np.array([zig_x[i] for i in range(ZIG_LAYERS + 1)])


cdef inline double _uniform_open(bitgen_t *bg) noexcept nogil:
    # (0, 1], never 0 (safe for log)
    return ((bg.next_uint64(bg.state) >> 11) + 1.0) * (1.0 / 9007199254740992.0)


cdef inline double _normal(bitgen_t *bg) noexcept nogil:
    # Fast path from one 32-bit draw: 8 bits pick the layer, 24 bits the signed
    # uniform (numpy's float32 ziggurat uses the same split); next_uint32 of the
    # 64-bit generators hands out both halves of one 64-bit output, so a normal
    # costs about half a generator step.  Rejections (~1 %) use 53-bit uniforms.
    cdef uint32_t r
    cdef int i
    cdef double u, x, y, f0, f1
    while True:
        r = bg.next_uint32(bg.state)
        i = <int>(r & 0xFF)
        u = 2.0 * ((r >> 8) * (1.0 / 16777216.0)) - 1.0            # [-1, 1)
        if fabs(u) < zig_ratio[i]:
            return u * zig_x[i]
        if i == 0:
            # tail beyond R (Marsaglia 1964)
            while True:
                x = -log(_uniform_open(bg)) / ZIG_R
                y = -log(_uniform_open(bg))
                if y + y >= x * x:
                    break
            return -(ZIG_R + x) if u < 0.0 else ZIG_R + x
        x = u * zig_x[i]
        f0 = exp(-0.5 * (zig_x[i] * zig_x[i] - x * x))
        f1 = exp(-0.5 * (zig_x[i + 1] * zig_x[i + 1] - x * x))
        if f1 + _uniform_open(bg) * (f0 - f1) < 1.0:
            return x


cdef int _same(Py_ssize_t a0, Py_ssize_t a1, Py_ssize_t b0, Py_ssize_t b1,
               str what) except -1:
    # shape checks before the unchecked (boundscheck=False) loops
    if a0 != b0 or a1 != b1:
        raise ValueError(f"{what}: shape ({b0}, {b1}) does not match ({a0}, {a1})")
    return 0


cdef bitgen_t *_bitgen(object bit_generator) except NULL:
    return <bitgen_t *> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")


def standard_normal_fill(object bit_generator, double[:, ::1] out):
    """Fill ``out`` with N(0, 1) draws from ``bit_generator`` (ziggurat)."""
    cdef bitgen_t *bg = _bitgen(bit_generator)
    cdef Py_ssize_t b, j
    with bit_generator.lock, nogil:
        for b in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[b, j] = _normal(bg)


cdef extern from *:
    """
    /* No a*b+c contraction into FMA (e.g. under -march=native): the rounding below
       must match the NumPy twin operation by operation. */
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC optimize ("fp-contract=off")
    #endif
    #define HW_ROUND_MAGIC 6755399441055744.0  /* 1.5 * 2^52 */

    /* Converter row, in place: clip to ±bound, quantize (delta > 0), multiply by
       scale.  No counting inside, so that gcc -O3 vectorizes it (minpd/maxpd). */
    static void hw_convert_row(double *restrict row, Py_ssize_t n, double bound,
                               double delta, double inv, double scale) {
        if (delta > 0.0) {
            for (Py_ssize_t j = 0; j < n; ++j) {
                double t = row[j];
                t = t > bound ? bound : t;
                t = t < -bound ? -bound : t;
                double u = t * inv + HW_ROUND_MAGIC;
                row[j] = ((u - HW_ROUND_MAGIC) * delta) * scale;
            }
        } else {
            for (Py_ssize_t j = 0; j < n; ++j) {
                double t = row[j];
                t = t > bound ? bound : t;
                t = t < -bound ? -bound : t;
                row[j] = t * scale;
            }
        }
    }
    /* Counts with four independent lanes (branch-free setcc + add). */
    static Py_ssize_t hw_count_saturated(const double *restrict row, Py_ssize_t n,
                                         double bound) {
        Py_ssize_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, j = 0;
        for (; j + 4 <= n; j += 4) {
            c0 += __builtin_fabs(row[j]) >= bound;
            c1 += __builtin_fabs(row[j + 1]) >= bound;
            c2 += __builtin_fabs(row[j + 2]) >= bound;
            c3 += __builtin_fabs(row[j + 3]) >= bound;
        }
        for (; j < n; ++j) c0 += __builtin_fabs(row[j]) >= bound;
        return (c0 + c1) + (c2 + c3);
    }
    static Py_ssize_t hw_count_nonzero(const double *restrict row, Py_ssize_t n) {
        Py_ssize_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, j = 0;
        for (; j + 4 <= n; j += 4) {
            c0 += row[j] != 0.0;
            c1 += row[j + 1] != 0.0;
            c2 += row[j + 2] != 0.0;
            c3 += row[j + 3] != 0.0;
        }
        for (; j < n; ++j) c0 += row[j] != 0.0;
        return (c0 + c1) + (c2 + c3);
    }
    static void hw_add_squares(const double *restrict v, double *restrict acc, Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; ++j) acc[j] += v[j] * v[j];
    }
    static void hw_scale_row(const double *restrict x, double *restrict v, Py_ssize_t n,
                             double s) {
        for (Py_ssize_t j = 0; j < n; ++j) v[j] = x[j] * s;
    }

    /* |w| summed along lines; restrict + independent lanes let gcc -O3 emit SIMD. */
    static void hw_abs_col_sums(const double *restrict w, double *restrict out,
                                Py_ssize_t m, Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; ++j) out[j] = 0.0;
        for (Py_ssize_t i = 0; i < m; ++i) {
            const double *restrict row = w + i * n;
            for (Py_ssize_t j = 0; j < n; ++j) out[j] += __builtin_fabs(row[j]);
        }
    }
    static void hw_abs_row_sums(const double *restrict w, double *restrict out,
                                Py_ssize_t m, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < m; ++i) {
            const double *restrict row = w + i * n;
            double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            Py_ssize_t j = 0;
            for (; j + 8 <= n; j += 8)
                for (int k = 0; k < 8; ++k) acc[k] += __builtin_fabs(row[j + k]);
            double tot = ((acc[0] + acc[1]) + (acc[2] + acc[3]))
                       + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            for (; j < n; ++j) tot += __builtin_fabs(row[j]);
            out[i] = tot;
        }
    }
    """
    void hw_convert_row(double *row, Py_ssize_t n, double bound, double delta, double inv,
                        double scale) nogil
    Py_ssize_t hw_count_saturated(const double *row, Py_ssize_t n, double bound) nogil
    Py_ssize_t hw_count_nonzero(const double *row, Py_ssize_t n) nogil
    void hw_add_squares(const double *v, double *acc, Py_ssize_t n) nogil
    void hw_scale_row(const double *x, double *v, Py_ssize_t n, double s) nogil
    void hw_abs_col_sums(const double *w, double *out, Py_ssize_t m, Py_ssize_t n) nogil
    void hw_abs_row_sums(const double *w, double *out, Py_ssize_t m, Py_ssize_t n) nogil


# --- plain quantizer ----------------------------------------------------------------
def clip_quantize(const double[:, ::1] x, double[:, ::1] out, double bound,
                  double delta, double inv_delta):
    """out = round(clip(x, ±bound) * inv_delta) * delta; returns #values with |x| >= bound."""
    cdef Py_ssize_t b, sat = 0
    _same(x.shape[0], x.shape[1], out.shape[0], out.shape[1], "clip_quantize out")
    if x.shape[1] == 0:
        return 0
    with nogil:
        for b in range(x.shape[0]):
            sat += hw_count_saturated(&x[b, 0], x.shape[1], bound)
            hw_scale_row(&x[b, 0], &out[b, 0], x.shape[1], 1.0)
            hw_convert_row(&out[b, 0], x.shape[1], bound, delta, inv_delta, 1.0)
    return sat


# --- MVM periphery stages -----------------------------------------------------------
def row_abs_max(const double[:, ::1] x, double[::1] out):
    """out[b] = max_j |x[b, j]| (noise management)."""
    cdef Py_ssize_t b, j
    cdef double m, a
    _same(x.shape[0], 1, out.shape[0], 1, "row_abs_max out")
    with nogil:
        for b in range(x.shape[0]):
            m = 0.0
            for j in range(x.shape[1]):
                a = fabs(x[b, j])
                if a > m:
                    m = a
            out[b] = m


def abs_line_sums(const double[:, ::1] w, double[::1] out, bint along_rows):
    """Sum of |w| along each input line: column sums (forward, along_rows=False)
    or row sums (transposed read, along_rows=True)."""
    cdef Py_ssize_t m = w.shape[0], n = w.shape[1]
    if out.shape[0] != (m if along_rows else n):
        raise ValueError("abs_line_sums: output length does not match the array")
    with nogil:
        if along_rows:
            hw_abs_row_sums(&w[0, 0], &out[0], m, n)
        else:
            hw_abs_col_sums(&w[0, 0], &out[0], m, n)


def abs_col_sums_at(const double[:, ::1] w, const long long[::1] cols, double[::1] out):
    """out[k] = Σ_i |w[i, cols[k]]|, rows in order from 0.0: the same additions as the
    column sums of :func:`abs_line_sums` (so the entries are bitwise equal)."""
    cdef Py_ssize_t m = w.shape[0], n = w.shape[1], nc = cols.shape[0], i, k
    if out.shape[0] != nc:
        raise ValueError("abs_col_sums_at: output length does not match the columns")
    for k in range(nc):
        if cols[k] < 0 or cols[k] >= n:
            raise ValueError(f"abs_col_sums_at: column {cols[k]} outside 0..{n - 1}")
    with nogil:
        for k in range(nc):
            out[k] = 0.0
        for i in range(m):
            for k in range(nc):
                out[k] += fabs(w[i, cols[k]])


cdef Py_ssize_t _dac_rows(const double[:, ::1] x, const double[::1] scale, double bound,
                         double delta, double inv_delta, double noise_std, object noise,
                         object bit_generator, double[:, ::1] v,
                         double[::1] sq_sums) except -1:
    """The DAC of dac_stage/dac_front (shapes checked by the callers)."""
    cdef Py_ssize_t B = x.shape[0], K = x.shape[1], b, j
    cdef Py_ssize_t active = 0
    cdef const double[:, ::1] nz
    cdef bint use_arr = noise is not None
    cdef bint use_gen = (not use_arr) and noise_std > 0.0
    cdef bitgen_t *bg = NULL
    if use_arr:
        nz = noise
        _same(B, K, nz.shape[0], nz.shape[1], "dac_stage noise")
    if K == 0:
        return 0
    if use_gen:
        bg = _bitgen(bit_generator)
        bit_generator.lock.acquire()
    try:
        with nogil:
            for b in range(B):
                hw_scale_row(&x[b, 0], &v[b, 0], K, scale[b])
                hw_convert_row(&v[b, 0], K, bound, delta, inv_delta, 1.0)
                active += hw_count_nonzero(&v[b, 0], K)
                if use_arr:
                    for j in range(K):
                        v[b, j] = v[b, j] + nz[b, j]
                elif use_gen:
                    for j in range(K):
                        v[b, j] = v[b, j] + noise_std * _normal(bg)
                hw_add_squares(&v[b, 0], &sq_sums[0], K)
    finally:
        if use_gen:
            bit_generator.lock.release()
    return active


def dac_stage(const double[:, ::1] x, const double[::1] scale, double bound,
              double delta, double inv_delta, double noise_std, object noise,
              object bit_generator, double[:, ::1] v, double[::1] sq_sums):
    """DAC of a batch: v = round(clip(x*scale_b, ±bound)*inv_delta)*delta (+ input noise).

    Input noise: ``noise`` (pre-drawn array, already scaled by σ) if given, else
    N(0, noise_std²) from ``bit_generator`` if noise_std > 0.  Adds Σ_b v² per input
    line into ``sq_sums``.  Returns the number of nonzero DAC codes (active lines).
    """
    _same(x.shape[0], x.shape[1], v.shape[0], v.shape[1], "dac_stage v")
    _same(x.shape[0], x.shape[1], scale.shape[0], sq_sums.shape[0], "dac_stage scale/sq_sums")
    return _dac_rows(x, scale, bound, delta, inv_delta, noise_std, noise, bit_generator, v,
                     sq_sums)


def dac_front(const double[:, ::1] x, bint abs_max, double bound, double out_gain,
              double delta, double inv_delta, double noise_std, object bit_generator,
              double[:, ::1] v, double[::1] in_scale, double[::1] out_scale,
              double[::1] sq_sums):
    """First read of a batch in one call: input check, noise management and DAC.

    ``abs_max``: m_b = max_j |x_bj|, in_scale_b = bound / m_b (0 when m_b = 0) and
    out_scale_b = m_b · (out_gain / bound); else in_scale_b = 1, out_scale_b = out_gain.
    Then the DAC of :func:`dac_stage` (full scale ``bound``, noise from
    ``bit_generator``).  Returns the nonzero DAC codes, or −1 when x holds NaN or inf
    (then nothing is converted).
    """
    return _dac_front(x, abs_max, bound, out_gain, delta, inv_delta, noise_std,
                      bit_generator, v, in_scale, out_scale, sq_sums)


cdef Py_ssize_t _dac_front(const double[:, ::1] x, bint abs_max, double bound,
                           double out_gain, double delta, double inv_delta, double noise_std,
                           object bit_generator, double[:, ::1] v, double[::1] in_scale,
                           double[::1] out_scale, double[::1] sq_sums) except -2:
    cdef Py_ssize_t B = x.shape[0], K = x.shape[1], b, j
    cdef double m, a, c = out_gain / bound
    cdef bint finite = True
    _same(B, K, v.shape[0], v.shape[1], "dac_front v")
    _same(B, K, in_scale.shape[0], sq_sums.shape[0], "dac_front in_scale/sq_sums")
    _same(B, 1, out_scale.shape[0], 1, "dac_front out_scale")
    with nogil:
        for b in range(B):
            m = 0.0
            for j in range(K):
                a = fabs(x[b, j])
                finite = finite & (a <= DBL_MAX)         # false for NaN and inf
                m = a if a > m else m
            if abs_max:
                in_scale[b] = bound / m if m > 0.0 else 0.0
                out_scale[b] = m * c
            else:
                in_scale[b] = 1.0
                out_scale[b] = out_gain
    if not finite:
        return -1
    return _dac_rows(x, in_scale, bound, delta, inv_delta, noise_std, None, bit_generator, v,
                     sq_sums)


def read_pass(const double[:, ::1] x, object w_read, bint transposed, bint abs_max,
              double in_bound, double out_gain, double in_delta, double in_inv,
              double in_noise, object in_gen, double out_noise, object out_gen,
              double out_bound, double out_delta, double out_inv, double[::1] sq_sums):
    """The first pass of a read without weight noise in one call: :func:`dac_front`
    (noise from ``in_gen``), the product ``u = v @ w_readᵀ`` (``v @ w_read`` when
    ``transposed``: numpy's matmul, as hwsim.physics.periphery._product calls it) and
    :func:`adc_stage` with σ_out = ``out_noise`` for every sample (noise from
    ``out_gen``).  Returns (y, saturations, per-sample saturation flags, active DAC
    codes, in_scale, out_scale), or None when x holds NaN or inf."""
    cdef Py_ssize_t B = x.shape[0], K = x.shape[1], b
    v = np.empty((B, K))
    in_scale, out_scale = np.empty(B), np.empty(B)
    cdef Py_ssize_t active = _dac_front(x, abs_max, in_bound, out_gain, in_delta, in_inv,
                                        in_noise, in_gen, v, in_scale, out_scale, sq_sums)
    if active < 0:
        return None
    u = v @ w_read if transposed else v @ w_read.T
    out = np.empty_like(u)
    flags = np.zeros(B, dtype=bool)              # written through an int8 view
    row_std = np.empty(B)
    cdef double[::1] rs = row_std
    for b in range(B):
        rs[b] = out_noise
    sat = _adc(u, rs, None, None, out_gen, out_bound, out_delta, out_inv, out_scale, out,
               flags.view(np.int8))
    return out, sat, flags, active, in_scale, out_scale


def adc_stage(const double[:, ::1] y, const double[::1] row_std, object elem_std,
              object noise, object bit_generator, double bound, double delta,
              double inv_delta, const double[::1] out_scale, double[:, ::1] out,
              signed char[::1] sat_rows):
    """ADC of a batch: t = y + noise; clip to ±bound; quantize; out = t * out_scale_b.

    Noise: ``noise`` (pre-drawn array, already scaled) if given; else, when
    ``bit_generator`` is given, σ·ξ with σ = ``elem_std[b, i]`` (a 2-D array) or
    ``row_std[b]`` (when elem_std is None).  An output saturates when |t| >= bound;
    ``sat_rows[b]`` is set to 1 for every sample with at least one saturated output.
    Returns the saturation count.
    """
    return _adc(y, row_std, elem_std, noise, bit_generator, bound, delta, inv_delta,
                out_scale, out, sat_rows)


cdef Py_ssize_t _adc(const double[:, ::1] y, const double[::1] row_std, object elem_std,
                     object noise, object bit_generator, double bound, double delta,
                     double inv_delta, const double[::1] out_scale, double[:, ::1] out,
                     signed char[::1] sat_rows) except -1:
    cdef Py_ssize_t B = y.shape[0], P = y.shape[1], b, i
    cdef Py_ssize_t sat = 0, row_sat
    cdef double sd
    cdef const double[:, ::1] nz
    cdef const double[:, ::1] es
    cdef bint use_arr = noise is not None
    cdef bint use_gen = (not use_arr) and bit_generator is not None
    cdef bint use_es = use_gen and elem_std is not None
    cdef bitgen_t *bg = NULL
    _same(B, P, out.shape[0], out.shape[1], "adc_stage out")
    _same(B, B, row_std.shape[0], out_scale.shape[0], "adc_stage row_std/out_scale")
    _same(B, 1, sat_rows.shape[0], 1, "adc_stage sat_rows")
    if use_arr:
        nz = noise
        _same(B, P, nz.shape[0], nz.shape[1], "adc_stage noise")
    if use_es:
        es = elem_std
        _same(B, P, es.shape[0], es.shape[1], "adc_stage elem_std")
    if P == 0:
        return 0
    if use_gen:
        bg = _bitgen(bit_generator)
        bit_generator.lock.acquire()
    try:
        with nogil:
            for b in range(B):
                if use_arr:
                    for i in range(P):
                        out[b, i] = y[b, i] + nz[b, i]
                elif use_es:
                    for i in range(P):
                        out[b, i] = y[b, i] + es[b, i] * _normal(bg)
                elif use_gen:
                    sd = row_std[b]
                    for i in range(P):
                        out[b, i] = y[b, i] + sd * _normal(bg)
                else:
                    hw_scale_row(&y[b, 0], &out[b, 0], P, 1.0)
                row_sat = hw_count_saturated(&out[b, 0], P, bound)
                hw_convert_row(&out[b, 0], P, bound, delta, inv_delta, out_scale[b])
                sat += row_sat
                sat_rows[b] = row_sat > 0
    finally:
        if use_gen:
            bit_generator.lock.release()
    return sat
