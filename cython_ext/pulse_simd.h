/* AVX-512 slot loop of the stochastic pulsed update for the LINEAR device family
   (model code 1: soft bounds and linear step), used by
   cython_ext/pulsed_update.pyx.  See that file for the update equations. */
#ifndef HWSIM_PULSE_SIMD_H
#define HWSIM_PULSE_SIMD_H
/* One slot of pulses on the LINEAR family (code 1) on devices (row, cols[k0:k1]),
   8 per AVX-512 step (gather/scatter; the columns of a slot are distinct).  Same IEEE
   operations in the same order as one_pulse; explicit-rounding intrinsics (round to
   nearest) are never contracted into FMAs, so results are bit-identical.  Chosen at
   run time (CPUID); the scalar loops are the fallback. */
#include <stdint.h>
#define HW_LIN_ARGS double* w, const double* dw, const double* p, const double* lo, \
    const double* hi, int64_t* cnt, const int32_t* cols, int64_t k0, int64_t k1, \
    double sgn, double sigma, double sadd, double sslope, uint64_t c0, uint64_t step, \
    const double* table, int tshift
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HW_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define HW_ADD(a, b) _mm512_add_round_pd(a, b, HW_RN)
#define HW_MUL(a, b) _mm512_mul_round_pd(a, b, HW_RN)
#define HW_GATHER(msk, j, ptr) _mm512_mask_i64gather_pd(zero, msk, j, ptr, 8)
#define HW_SET(v) _mm512_set1_epi64((long long)(v))
static int hwsim_has_avx512(void) { __builtin_cpu_init(); return __builtin_cpu_supports(
    "avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"); }
__attribute__((target("avx512f,avx512dq,avx512vl")))
static void hwsim_linear_avx512(HW_LIN_ARGS) {
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    const __m512d vsig = _mm512_set1_pd(sigma), vadd = _mm512_set1_pd(sadd);
    const __m512d vslope = _mm512_set1_pd(sslope), vsgn = _mm512_set1_pd(sgn);
    const __m512d vscale = _mm512_set1_pd(1.0 / 4294967296.0);
    const __m512i vc0 = HW_SET(c0), vstep = HW_SET(step), ones = HW_SET(1);
    const __m512i low32 = HW_SET(0xFFFFFFFFULL), m1 = HW_SET(0xBF58476D1CE4E5B9ULL),
        m2 = HW_SET(0x94D049BB133111EBULL);
    const __m128i sh = _mm_cvtsi32_si128(tshift);
    for (int64_t k = k0; k < k1; k += 8) {
        __mmask8 m = (k1 - k >= 8) ? (__mmask8)0xFF : (__mmask8)((1u << (k1 - k)) - 1u);
        __m512i j = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, cols + k));
        __m512d wv = HW_GATHER(m, j, w), dev = HW_GATHER(m, j, dw);
        __m512d q = _mm512_sub_round_pd(one, HW_MUL(HW_GATHER(m, j, p), wv), HW_RN);
        q = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(q, zero, _CMP_LT_OQ), q, zero);
        __m512d base = HW_MUL(dev, q);
        __m512d sd = HW_ADD(HW_MUL(vsig, base),
                            HW_MUL(dev, HW_ADD(vadd, HW_MUL(vslope, _mm512_abs_pd(wv)))));
        __m512i h = _mm512_add_epi64(vc0, _mm512_mullo_epi64(j, vstep));
        h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 30)), m1);
        h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 27)), m2);
        h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
        __m512i cell = _mm512_slli_epi64(_mm512_srl_epi64(h, sh), 1);
        __m512i fu = _mm512_and_si512(_mm512_srli_epi64(h, 20), low32);
        __m512d f = HW_MUL(_mm512_cvtepu64_pd(fu), vscale);
        __mmask8 noisy = _mm512_mask_cmp_pd_mask(m, sd, zero, _CMP_GT_OQ);
        __m512d xi = HW_ADD(HW_GATHER(noisy, cell, table),
                            HW_MUL(f, HW_GATHER(noisy, cell, table + 1)));
        base = _mm512_mask_add_round_pd(base, noisy, base, HW_MUL(sd, xi), HW_RN);
        wv = HW_ADD(wv, HW_MUL(vsgn, base));
        __m512d l = HW_GATHER(m, j, lo), u = HW_GATHER(m, j, hi);
        wv = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(wv, l, _CMP_LT_OQ), wv, l);
        wv = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(wv, u, _CMP_GT_OQ), wv, u);
        _mm512_mask_i64scatter_pd(w, m, j, wv, 8);
        if (cnt) _mm512_mask_i64scatter_epi64(cnt, m, j, _mm512_add_epi64(
            _mm512_mask_i64gather_epi64(ones, m, j, cnt, 8), ones), 8);
    }
}

/* Explicit pulse counts on the LINEAR family (code 1, not lumped, no write-noise map):
   |n[t]| pulses on device idx[t] (row-major flat index), up for n > 0, t in [0, len),
   8 devices per AVX-512 step (the caller lists the devices with n != 0).  Each lane keeps
   its weight in a register through its own pulses; pulse k of device idx uses the word
   of counter (idx·2^32 + k), exactly as n_pulses/one_pulse do (same IEEE operations in
   the same order), so the result is bit-identical.  Devices are independent and listed
   once, so the lanes never alias. */
#define HW_CNT_ARGS double* w, const double* dw_up, const double* dw_dn, const double* pu, \
    const double* pd, const double* lo, const double* hi, int64_t* cnt, \
    const int64_t* idx, const int64_t* counts, int64_t len, uint64_t key, double sigma, \
    double sadd, double sslope, const double* table, int tshift
__attribute__((target("avx512f,avx512dq,avx512vl")))
static void hwsim_counts_linear_avx512(HW_CNT_ARGS) {
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    const __m512d vsig = _mm512_set1_pd(sigma), vadd = _mm512_set1_pd(sadd);
    const __m512d vslope = _mm512_set1_pd(sslope), vscale = _mm512_set1_pd(1.0 / 4294967296.0);
    const __m512i vphi = HW_SET(0x9E3779B97F4A7C15ULL), vkey = HW_SET(key), ones = HW_SET(1);
    const __m512i low32 = HW_SET(0xFFFFFFFFULL), m1 = HW_SET(0xBF58476D1CE4E5B9ULL),
        m2 = HW_SET(0x94D049BB133111EBULL), izero = _mm512_setzero_si512();
    const __m128i sh = _mm_cvtsi32_si128(tshift);
    for (int64_t t = 0; t < len; t += 8) {
        __mmask8 m = (len - t >= 8) ? (__mmask8)0xFF : (__mmask8)((1u << (len - t)) - 1u);
        __m512i n = _mm512_maskz_loadu_epi64(m, counts + t);
        __m512i j = _mm512_maskz_loadu_epi64(m, idx + t);
        __mmask8 up = _mm512_mask_cmpgt_epi64_mask(m, n, izero);
        __m512i mag = _mm512_abs_epi64(n);
        __m512d wv = HW_GATHER(m, j, w);
        __m512d dev = _mm512_mask_blend_pd(up, HW_GATHER(m, j, dw_dn), HW_GATHER(m, j, dw_up));
        __m512d pv = _mm512_mask_blend_pd(up, HW_GATHER(m, j, pd), HW_GATHER(m, j, pu));
        __m512d l = HW_GATHER(m, j, lo), u = HW_GATHER(m, j, hi);
        __m512d sgn = _mm512_mask_blend_pd(up, _mm512_set1_pd(-1.0), one);
        /* word of pulse k: mix64(key + ((idx << 32) + k + 1)·φ) */
        __m512i hk = _mm512_add_epi64(vkey, _mm512_mullo_epi64(
            _mm512_add_epi64(_mm512_slli_epi64(j, 32), ones), vphi));
        int64_t kmax = _mm512_mask_reduce_max_epi64(m, mag);
        for (int64_t k = 0; k < kmax; k++) {
            __mmask8 a = _mm512_mask_cmpgt_epi64_mask(m, mag, HW_SET(k));
            __m512d q = _mm512_sub_round_pd(one, HW_MUL(pv, wv), HW_RN);
            q = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(q, zero, _CMP_LT_OQ), q, zero);
            __m512d base = HW_MUL(dev, q);
            __m512d sd = HW_ADD(HW_MUL(vsig, base),
                                HW_MUL(dev, HW_ADD(vadd, HW_MUL(vslope, _mm512_abs_pd(wv)))));
            __m512i h = hk;
            h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 30)), m1);
            h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 27)), m2);
            h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
            hk = _mm512_add_epi64(hk, vphi);
            __m512i cell = _mm512_slli_epi64(_mm512_srl_epi64(h, sh), 1);
            __m512d f = HW_MUL(_mm512_cvtepu64_pd(_mm512_and_si512(_mm512_srli_epi64(h, 20),
                                                                   low32)), vscale);
            __mmask8 noisy = _mm512_mask_cmp_pd_mask(a, sd, zero, _CMP_GT_OQ);
            __m512d xi = HW_ADD(HW_GATHER(noisy, cell, table),
                                HW_MUL(f, HW_GATHER(noisy, cell, table + 1)));
            base = _mm512_mask_add_round_pd(base, noisy, base, HW_MUL(sd, xi), HW_RN);
            __m512d nw = HW_ADD(wv, HW_MUL(sgn, base));
            nw = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(nw, l, _CMP_LT_OQ), nw, l);
            nw = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(nw, u, _CMP_GT_OQ), nw, u);
            wv = _mm512_mask_blend_pd(a, wv, nw);
        }
        _mm512_mask_i64scatter_pd(w, m, j, wv, 8);
        if (cnt) _mm512_mask_i64scatter_epi64(cnt, m, j, _mm512_add_epi64(
            _mm512_mask_i64gather_epi64(izero, m, j, cnt, 8), mag), 8);
    }
}
#else
static int hwsim_has_avx512(void) { return 0; }
static void hwsim_linear_avx512(HW_LIN_ARGS) {}     /* never called */
static void hwsim_counts_linear_avx512(HW_CNT_ARGS) {}   /* never called */
#endif

#endif
