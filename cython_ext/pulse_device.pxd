# Device state and pulse arithmetic in double (the one-pulse code is pulse_device.pxi,
# written once for the precision ``real``; the float64 kernels cimport this file).
from libc.stdint cimport uint64_t, int64_t, int32_t

ctypedef double real

cdef extern from "pulse_simd.h":
    int hwsim_has_avx512() noexcept nogil
    # AVX-512 loops of the LINEAR family in this precision (pulse_simd.h)
    void linear_simd "hwsim_linear_avx512"(
        real* w, const real* dw, const real* p, const real* lo, const real* hi,
        int64_t* cnt, const int32_t* cols, int64_t k0, int64_t k1, real sgn, real sigma,
        real sadd, real sslope, uint64_t c0, uint64_t step, const double* table,
        int tshift) nogil
    void counts_linear_simd "hwsim_counts_linear_avx512"(
        real* w, const real* dw_up, const real* dw_dn, const real* pu, const real* pd,
        const real* lo, const real* hi, int64_t* cnt, const int64_t* idx,
        const int64_t* counts, int64_t len, uint64_t key, real sigma, real sadd,
        real sslope, const double* table, int tshift) nogil
    void hwsim_pack_avx512(const uint64_t* thr, int64_t nl, int bl, uint64_t key,
                           uint64_t ctr0, uint64_t* out) nogil

include "pulse_device.pxi"
