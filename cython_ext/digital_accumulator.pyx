# Digital accumulators of the training algorithms: the Tiki-Taka v2 transfer buffer H
# (transfer_accumulate, at the end of this file) and the mixed-precision word array χ
# (Nandakumar et al., Front. Neurosci. 14:406, 2020): one fused pass per layer and
# mini-batch over the (M, N) word array.
#
# Per element (g = the batch gradient dᵀx, c = −η/weight_scale):
#
#     s  = χ + c·g                                   digital accumulate
#     s  = clip(round(s / lsb), lo, hi) · lsb        fixed-point word (quantize only)
#     A += s − χ                                     what χ actually received
#     n  = (int64) clip(trunc(s / ε), −P, P)         threshold test → pulse count
#     χ  = s − n·ε ;  W += n·ε                       write-back and bookkeeping
#
# plus the number of non-zero n (threshold crossings) and max_j |n| per row (the
# pulse budget of the serial row write).  The NumPy twin (the test oracle) is
# hwsim/training/digital_accumulator.py::chi_update_numpy; both perform the same IEEE
# operations in the same order (no FMA: setup.py builds with -ffp-contract=off), so
# they agree bit for bit.  round() is round-half-to-even as np.round (= rint):
# for |u| < 2^52, (|u| + 2^52) − 2^52 rounds |u| ties-to-even (2^52 is even, ulp 1)
# and copysign restores the sign, also of a zero (rint(−0.3) = −0.0); |u| ≥ 2^52 is
# already an integer.  The clips keep their input unless it lies strictly outside
# [lo, hi], which is what np.clip does with signed zeros (chi_bits = 1: lo = −0, hi = 0).
# The row loop is plain C, branch-free, on restrict pointers; it is compiled three
# times — baseline x86-64, AVX2 and AVX-512 (F/DQ/VL) — and gcc -O3 vectorizes the
# AVX2 / AVX-512 copies (4 / 8 doubles per instruction); the best copy the CPU has is
# chosen at run time (CPUID), ``isa()`` selects one for tests.  Vector and scalar
# instructions are the same IEEE operations, so every copy gives the same bits.
from libc.math cimport fabs, trunc
from libc.stdint cimport int64_t

cdef extern from *:
    """
    /* No a*b+c contraction into FMA: the operations must be those of the NumPy twin.
       no-trapping-math (FP exceptions have no side effects we rely on) lets gcc
       if-convert the selects and vectorize; it changes no rounding (that would take
       -fassociative-math / -ffast-math, which stay off).  Scoped to these functions. */
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC push_options
    #pragma GCC optimize ("fp-contract=off", "no-trapping-math")
    #endif
    #include <math.h>
    #include <stdint.h>
    #define HW_TWO52 4503599627370496.0
    /* One row of the fused χ update.  QUANT is a compile-time 0/1; CT the integer type
       of the float→int conversion: int32_t when |n| ≤ max_pulses < 2^31 (exact, and
       packed on SSE2/AVX2, which have no packed double→int64), else int64_t. */
    #define HW_CHI_LOOP(QUANT, CT)                                                    \
        for (Py_ssize_t j = 0; j < n; j++) {                                          \
            double old = chi[j];                                                      \
            double s = old + coef * grad[j];                                          \
            if (QUANT) {                                                              \
                double u = s / lsb, a = fabs(u);                                      \
                double r = copysign((a + HW_TWO52) - HW_TWO52, u);                    \
                u = a < HW_TWO52 ? r : u;          /* round half even, sign kept */   \
                u = u < lo ? lo : u;                                                  \
                u = u > hi ? hi : u;                                                  \
                s = u * lsb;                                                          \
            }                                                                         \
            acc[j] = acc[j] + (s - old);                                              \
            double q = trunc(s / eps);                                                \
            q = q < pmin ? pmin : q;                                                  \
            q = q > pmax ? pmax : q;                                                  \
            q = q + 0.0;   /* −0 → +0: gcc may reuse q for (double)c below */        \
            CT c = (CT)q;                                                             \
            counts[j] = (int64_t)c;                                                   \
            writes += (c != 0);                                                       \
            CT ac = c < 0 ? -c : c;                                                   \
            rmax = ac > rmax ? ac : rmax;                                             \
            double moved = (double)c * eps;                                           \
            chi[j] = s - moved;                                                       \
            written[j] = written[j] + moved;                                          \
        }
    #define HW_CHI_ARGS double *restrict chi, const double *restrict grad,             \
        double *restrict acc, double *restrict written, int64_t *restrict counts,     \
        Py_ssize_t n, double coef, double eps, int quantize, double lsb, double lo,   \
        double hi, double pmin, double pmax, int64_t *row_max
    #define HW_CHI_BODY                                                               \
        int64_t writes = 0, rmax = 0;                                                 \
        if (pmax <= 2147483647.0) {                                                   \
            if (quantize) { HW_CHI_LOOP(1, int32_t) } else { HW_CHI_LOOP(0, int32_t) } \
        } else {                                                                      \
            if (quantize) { HW_CHI_LOOP(1, int64_t) } else { HW_CHI_LOOP(0, int64_t) } \
        }                                                                             \
        *row_max = rmax;                                                              \
        return writes;
    /* 0 = baseline copy, 1 = AVX2, 2 = AVX-512 (F/DQ/VL) */
    static int64_t hw_chi_row(HW_CHI_ARGS) { HW_CHI_BODY }
    #if defined(__x86_64__) && defined(__GNUC__)
    __attribute__((target("avx2")))
    static int64_t hw_chi_row_avx2(HW_CHI_ARGS) { HW_CHI_BODY }
    __attribute__((target("avx512f,avx512dq,avx512vl")))
    static int64_t hw_chi_row_avx512(HW_CHI_ARGS) { HW_CHI_BODY }
    static int hw_chi_best_isa(void) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512vl"))
            return 2;
        return __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    #else
    static int64_t hw_chi_row_avx2(HW_CHI_ARGS) { HW_CHI_BODY }
    static int64_t hw_chi_row_avx512(HW_CHI_ARGS) { HW_CHI_BODY }
    static int hw_chi_best_isa(void) { return 0; }
    #endif
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC pop_options
    #endif
    """
    int64_t hw_chi_row(double* chi, const double* grad, double* acc, double* written,
                       int64_t* counts, Py_ssize_t n, double coef, double eps, int quantize,
                       double lsb, double lo, double hi, double pmin, double pmax,
                       int64_t* row_max) noexcept nogil
    int64_t hw_chi_row_avx2(double* chi, const double* grad, double* acc, double* written,
                            int64_t* counts, Py_ssize_t n, double coef, double eps,
                            int quantize, double lsb, double lo, double hi, double pmin,
                            double pmax, int64_t* row_max) noexcept nogil
    int64_t hw_chi_row_avx512(double* chi, const double* grad, double* acc, double* written,
                              int64_t* counts, Py_ssize_t n, double coef, double eps,
                              int quantize, double lsb, double lo, double hi, double pmin,
                              double pmax, int64_t* row_max) noexcept nogil
    int hw_chi_best_isa() noexcept nogil


ctypedef int64_t (*row_fn)(double* chi, const double* grad, double* acc,
                           double* written, int64_t* counts, Py_ssize_t n, double coef,
                           double eps, int quantize, double lsb, double lo, double hi,
                           double pmin, double pmax, int64_t* row_max) noexcept nogil

ISAS = ("baseline", "avx2", "avx512")
cdef int BEST_ISA = hw_chi_best_isa()
cdef int ISA = BEST_ISA


def isa(name=None):
    """The instruction-set copy of the row loop in use ("baseline", "avx2", "avx512").

    ``isa("baseline")`` etc. selects a copy the CPU supports (tests compare all of them
    with the twin); ``isa("best")`` restores the fastest one.  Returns the setting.
    """
    global ISA
    if name is not None:
        want = BEST_ISA if name == "best" else ISAS.index(name)
        if want > BEST_ISA:
            raise ValueError(f"this CPU does not support the {name} copy")
        ISA = want
    return ISAS[ISA]


def chi_update(double[:, ::1] chi, const double[:, ::1] grad, double coef,
               double[:, ::1] accumulated, double[:, ::1] written,
               int64_t[:, ::1] counts, int64_t[::1] row_max,
               double eps, bint quantize, double lsb, double lo, double hi,
               int64_t max_pulses):
    """Fused χ update of one layer and batch (in place); returns the crossings count.

    ``chi``, ``accumulated``, ``written`` are updated in place; ``counts`` and
    ``row_max`` are outputs.  Shapes are checked by the Python wrapper.
    """
    cdef Py_ssize_t m = chi.shape[0], n = chi.shape[1], i
    cdef int64_t writes = 0
    cdef double pmax = <double>max_pulses
    cdef row_fn fn = hw_chi_row_avx512 if ISA == 2 else (
        hw_chi_row_avx2 if ISA == 1 else hw_chi_row)
    if n == 0:
        for i in range(m):
            row_max[i] = 0
        return 0
    with nogil:
        for i in range(m):
            writes += fn(&chi[i, 0], &grad[i, 0], &accumulated[i, 0], &written[i, 0],
                         &counts[i, 0], n, coef, eps, quantize, lsb, lo, hi, -pmax, pmax,
                         &row_max[i])
    return writes


def transfer_accumulate(double[:, ::1] H, const int64_t[::1] cols, const double[:, ::1] v,
                        double scale, const double[::1] c_in, const double[::1] c_out,
                        bint chopped, double momentum, int64_t max_pulses, bint enabled,
                        int64_t[:, ::1] counts):
    """Tiki-Taka v2 transfer of the read columns ``cols`` into the buffer H (in place);
    returns the threshold crossings.  Per row i and read column c (j = cols[c]):

        h = H[i, j] + (scale · c_in[j] · c_out[i]) · v[c, i]     (sign 1 unless chopped)
        fire = enabled and |h| ≥ 1
        counts[i, c] = clip(trunc(h), ±max_pulses) if fire else 0
        H[i, j] = h · momentum if fire else h

    Shapes, distinct columns and finiteness are checked by the Python wrapper.
    """
    cdef Py_ssize_t m = H.shape[0], k = cols.shape[0], i, c, j
    cdef double pmax = <double>max_pulses, h, q, sg
    cdef int64_t writes = 0
    with nogil:
        for i in range(m):
            for c in range(k):
                j = cols[c]
                sg = scale * (c_in[j] * c_out[i]) if chopped else scale * 1.0
                h = H[i, j] + sg * v[c, i]
                if enabled and fabs(h) >= 1.0:
                    q = trunc(h)
                    q = -pmax if q < -pmax else q
                    q = pmax if q > pmax else q
                    counts[i, c] = <int64_t>q
                    H[i, j] = h * momentum
                    writes += 1
                else:
                    counts[i, c] = 0
                    H[i, j] = h
    return writes
