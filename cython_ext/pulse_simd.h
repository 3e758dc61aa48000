/* AVX-512 loops of the pulsed update, used by cython_ext/pulsed_update.pyx (see there for
   the update equations): packing of the stochastic trains (every model; 8 lines per step)
   and the pulses of the LINEAR device family (MODEL_LINEAR of pulse_device.pxi: soft bounds,
   linear step and the linear response families;
   8 devices per step); each step is hw_pulse8, the same IEEE
   operations in the same order as one_pulse/finish, with explicit-rounding intrinsics
   that are never contracted into FMAs, so results are bit-identical to the scalar loops
   and the oracle.  Chosen at run time (CPUID); the scalar loops are the fallback. */
#ifndef HWSIM_PULSE_SIMD_H
#define HWSIM_PULSE_SIMD_H
#include <stdint.h>
#define HW_LIN_ARGS double* w, const double* dw, const double* p, const double* lo, \
    const double* hi, int64_t* cnt, const int32_t* cols, int64_t k0, int64_t k1, \
    double sgn, double sigma, double sadd, double sslope, uint64_t c0, uint64_t step, \
    const double* table, int tshift
#define HW_PACK_ARGS const uint64_t* thr, int64_t nl, int bl, uint64_t key, uint64_t ctr0, \
    uint64_t* out
#define HW_CNT_ARGS double* w, const double* dw_up, const double* dw_dn, const double* pu, \
    const double* pd, const double* lo, const double* hi, int64_t* cnt, \
    const int64_t* idx, const int64_t* counts, int64_t len, uint64_t key, double sigma, \
    double sadd, double sslope, const double* table, int tshift
#define HW_LIN_ARGS_F32 float* w, const float* dw, const float* p, const float* lo, \
    const float* hi, int64_t* cnt, const int32_t* cols, int64_t k0, int64_t k1, \
    float sgn, float sigma, float sadd, float sslope, uint64_t c0, uint64_t step, \
    const double* table, int tshift
#define HW_CNT_ARGS_F32 float* w, const float* dw_up, const float* dw_dn, const float* pu, \
    const float* pd, const float* lo, const float* hi, int64_t* cnt, \
    const int64_t* idx, const int64_t* counts, int64_t len, uint64_t key, float sigma, \
    float sadd, float sslope, const double* table, int tshift
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HW_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define HW_ADD(a, b) _mm512_add_round_pd(a, b, HW_RN)
#define HW_MUL(a, b) _mm512_mul_round_pd(a, b, HW_RN)
#define HW_GATHER(msk, j, ptr) _mm512_mask_i64gather_pd(_mm512_setzero_pd(), msk, j, ptr, 8)
#define HW_SET(v) _mm512_set1_epi64((long long)(v))
#define HW_PHI 0x9E3779B97F4A7C15ULL
#define HW_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl"), unused))

static int hwsim_has_avx512(void) { __builtin_cpu_init(); return __builtin_cpu_supports(
    "avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"); }

/* One pulse on the lanes of mask a (weights wv, step dev, slope pv, bounds [l, u],
   direction sgn = ±1), lane word x = key + (ctr + 1)·φ before mixing:
       base = dev·max(1 − pv·w, 0);  std = σ·base + dev·(σ_add + σ_slope·|w|)
       base += std·ξ(mix64(x)) if std > 0;  w = clip(w + sgn·base, l, u)
   Returns the new weights (lanes outside a: unspecified, the caller masks). */
HW_AVX512 static inline __attribute__((always_inline)) __m512d hw_pulse8(
        __m512d wv, __m512d dev, __m512d pv, __m512d l, __m512d u, __m512d sgn, __m512i x,
        __mmask8 a, double sigma, double sadd, double sslope, const double* table,
        __m128i sh) {
    const __m512d zero = _mm512_setzero_pd();
    __m512d q = _mm512_sub_round_pd(_mm512_set1_pd(1.0), HW_MUL(pv, wv), HW_RN);
    q = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(q, zero, _CMP_LT_OQ), q, zero);
    __m512d base = HW_MUL(dev, q);
    __m512d sd = HW_ADD(HW_MUL(_mm512_set1_pd(sigma), base),
                        HW_MUL(dev, HW_ADD(_mm512_set1_pd(sadd),
                                           HW_MUL(_mm512_set1_pd(sslope), _mm512_abs_pd(wv)))));
    __m512i h = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 30)),
                                   HW_SET(0xBF58476D1CE4E5B9ULL));
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 27)),
                           HW_SET(0x94D049BB133111EBULL));
    h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
    __m512i cell = _mm512_slli_epi64(_mm512_srl_epi64(h, sh), 1);
    __m512d f = HW_MUL(_mm512_cvtepu64_pd(_mm512_and_si512(_mm512_srli_epi64(h, 20),
                                                           HW_SET(0xFFFFFFFFULL))),
                       _mm512_set1_pd(1.0 / 4294967296.0));
    __mmask8 noisy = _mm512_mask_cmp_pd_mask(a, sd, zero, _CMP_GT_OQ);
    __m512d xi = HW_ADD(HW_GATHER(noisy, cell, table),
                        HW_MUL(f, HW_GATHER(noisy, cell, table + 1)));
    base = _mm512_mask_add_round_pd(base, noisy, base, HW_MUL(sd, xi), HW_RN);
    __m512d nw = HW_ADD(wv, HW_MUL(sgn, base));
    nw = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(nw, l, _CMP_LT_OQ), nw, l);
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(nw, u, _CMP_GT_OQ), nw, u);
}

/* One slot of pulses on devices (row, cols[k0:k1]) in one direction; the columns of a
   slot are distinct.  The word of column j is c0 + j·step (c0, step from the caller). */
HW_AVX512 static void hwsim_linear_avx512(HW_LIN_ARGS) {
    const __m512i vc0 = HW_SET(c0), vstep = HW_SET(step), ones = HW_SET(1);
    const __m512d vsgn = _mm512_set1_pd(sgn);
    const __m128i sh = _mm_cvtsi32_si128(tshift);
    for (int64_t k = k0; k < k1; k += 8) {
        __mmask8 m = (k1 - k >= 8) ? (__mmask8)0xFF : (__mmask8)((1u << (k1 - k)) - 1u);
        __m512i j = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, cols + k));
        __m512d wv = hw_pulse8(HW_GATHER(m, j, w), HW_GATHER(m, j, dw), HW_GATHER(m, j, p),
                               HW_GATHER(m, j, lo), HW_GATHER(m, j, hi), vsgn,
                               _mm512_add_epi64(vc0, _mm512_mullo_epi64(j, vstep)), m,
                               sigma, sadd, sslope, table, sh);
        _mm512_mask_i64scatter_pd(w, m, j, wv, 8);
        if (cnt) _mm512_mask_i64scatter_epi64(cnt, m, j, _mm512_add_epi64(
            _mm512_mask_i64gather_epi64(ones, m, j, cnt, 8), ones), 8);
    }
}

/* Slot masks of lines l = 0..nl−1 (pack_line, 8 lines per step): word p of line l is
   mix64(key + (ctr0 + 32·l + p + 1)·φ); slot 2p fires when its low 32 bits are below
   thr[l], slot 2p + 1 (< bl) when its high 32 bits are.  Comparisons set mask bits, no
   branch on data (a random 50 % branch costs more than the draw). */
HW_AVX512 static void hwsim_pack_avx512(HW_PACK_ARGS) {
    const __m512i vphi = HW_SET(HW_PHI), lo32 = HW_SET(0xFFFFFFFFULL),
        izero = _mm512_setzero_si512();
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (int64_t l = 0; l < nl; l += 8) {
        __mmask8 m = (nl - l >= 8) ? (__mmask8)0xFF : (__mmask8)((1u << (nl - l)) - 1u);
        __m512i t = _mm512_maskz_loadu_epi64(m, thr + l);
        __m512i mask = izero;
        if (_mm512_mask_cmpneq_epu64_mask(m, t, izero)) {
            __m512i ctr = _mm512_add_epi64(HW_SET(ctr0 + 32 * (uint64_t)l + 1),
                                           _mm512_slli_epi64(lane, 5));
            __m512i x = _mm512_add_epi64(HW_SET(key), _mm512_mullo_epi64(ctr, vphi));
            for (int p = 0; 2 * p < bl; p++) {
                __m512i h = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 30)),
                                               HW_SET(0xBF58476D1CE4E5B9ULL));
                h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 27)),
                                       HW_SET(0x94D049BB133111EBULL));
                h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
                mask = _mm512_mask_or_epi64(mask, _mm512_cmplt_epu64_mask(
                    _mm512_and_si512(h, lo32), t), mask, HW_SET(1ULL << (2 * p)));
                if (2 * p + 1 < bl)
                    mask = _mm512_mask_or_epi64(mask, _mm512_cmplt_epu64_mask(
                        _mm512_srli_epi64(h, 32), t), mask, HW_SET(1ULL << (2 * p + 1)));
                x = _mm512_add_epi64(x, vphi);
            }
        }
        _mm512_mask_storeu_epi64(out + l, m, mask);
    }
}

/* Explicit counts: |n[t]| pulses on device idx[t] (row-major flat index, listed once),
   up for n > 0; each lane keeps its weight in a register through its own pulses, and
   pulse k of device idx uses counter idx·2^32 + k, as n_pulses does. */
HW_AVX512 static void hwsim_counts_linear_avx512(HW_CNT_ARGS) {
    const __m512i vphi = HW_SET(HW_PHI), vkey = HW_SET(key), ones = HW_SET(1),
        izero = _mm512_setzero_si512();
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
        __m512d sgn = _mm512_mask_blend_pd(up, _mm512_set1_pd(-1.0), _mm512_set1_pd(1.0));
        /* word of pulse k before mixing: key + ((idx << 32) + k + 1)·φ */
        __m512i x = _mm512_add_epi64(vkey, _mm512_mullo_epi64(
            _mm512_add_epi64(_mm512_slli_epi64(j, 32), ones), vphi));
        int64_t kmax = _mm512_mask_reduce_max_epi64(m, mag);
        for (int64_t k = 0; k < kmax; k++) {
            __mmask8 a = _mm512_mask_cmpgt_epi64_mask(m, mag, HW_SET(k));
            wv = _mm512_mask_blend_pd(a, wv, hw_pulse8(wv, dev, pv, l, u, sgn, x, a, sigma,
                                                       sadd, sslope, table, sh));
            x = _mm512_add_epi64(x, vphi);
        }
        _mm512_mask_i64scatter_pd(w, m, j, wv, 8);
        if (cnt) _mm512_mask_i64scatter_epi64(cnt, m, j, _mm512_add_epi64(
            _mm512_mask_i64gather_epi64(izero, m, j, cnt, 8), mag), 8);
    }
}
/* ---- float32 device state (pulse_device32.pxd): the same loops on 8 lanes of float in
   a __m256 (the 64-bit words and gather indices stay 8 lanes of a __m512i).  The normal
   variate is formed in double from the double table, as in the scalar code, and
   rounded once to float; every other operation is one float operation (the build has
   -ffp-contract=off, so mul + add are never fused). */
#define HW_GATHER_F32(msk, j, ptr) _mm512_mask_i64gather_ps(_mm256_setzero_ps(), msk, j, ptr, 4)

HW_AVX512 static inline __attribute__((always_inline)) __m256 hw_pulse8_f32(
        __m256 wv, __m256 dev, __m256 pv, __m256 l, __m256 u, __m256 sgn, __m512i x,
        __mmask8 a, float sigma, float sadd, float sslope, const double* table,
        __m128i sh) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 q = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(pv, wv));
    q = _mm256_mask_blend_ps(_mm256_cmp_ps_mask(q, zero, _CMP_LT_OQ), q, zero);
    __m256 base = _mm256_mul_ps(dev, q);
    __m256 absw = _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(wv),
                                                       _mm256_set1_epi32(0x7FFFFFFF)));
    __m256 sd = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(sigma), base),
                              _mm256_mul_ps(dev, _mm256_add_ps(_mm256_set1_ps(sadd),
                                            _mm256_mul_ps(_mm256_set1_ps(sslope), absw))));
    __m512i h = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 30)),
                                   HW_SET(0xBF58476D1CE4E5B9ULL));
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 27)),
                           HW_SET(0x94D049BB133111EBULL));
    h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
    __m512i cell = _mm512_slli_epi64(_mm512_srl_epi64(h, sh), 1);
    __m512d f = HW_MUL(_mm512_cvtepu64_pd(_mm512_and_si512(_mm512_srli_epi64(h, 20),
                                                           HW_SET(0xFFFFFFFFULL))),
                       _mm512_set1_pd(1.0 / 4294967296.0));
    __mmask8 noisy = _mm256_mask_cmp_ps_mask(a, sd, zero, _CMP_GT_OQ);
    __m256 xi = _mm512_cvt_roundpd_ps(HW_ADD(HW_GATHER(noisy, cell, table),
                                             HW_MUL(f, HW_GATHER(noisy, cell, table + 1))),
                                      HW_RN);
    base = _mm256_mask_add_ps(base, noisy, base, _mm256_mul_ps(sd, xi));
    __m256 nw = _mm256_add_ps(wv, _mm256_mul_ps(sgn, base));
    nw = _mm256_mask_blend_ps(_mm256_cmp_ps_mask(nw, l, _CMP_LT_OQ), nw, l);
    return _mm256_mask_blend_ps(_mm256_cmp_ps_mask(nw, u, _CMP_GT_OQ), nw, u);
}

HW_AVX512 static void hwsim_linear_avx512_f32(HW_LIN_ARGS_F32) {
    const __m512i vc0 = HW_SET(c0), vstep = HW_SET(step), ones = HW_SET(1);
    const __m256 vsgn = _mm256_set1_ps(sgn);
    const __m128i sh = _mm_cvtsi32_si128(tshift);
    for (int64_t k = k0; k < k1; k += 8) {
        __mmask8 m = (k1 - k >= 8) ? (__mmask8)0xFF : (__mmask8)((1u << (k1 - k)) - 1u);
        __m512i j = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, cols + k));
        __m256 wv = hw_pulse8_f32(HW_GATHER_F32(m, j, w), HW_GATHER_F32(m, j, dw),
                                  HW_GATHER_F32(m, j, p), HW_GATHER_F32(m, j, lo),
                                  HW_GATHER_F32(m, j, hi), vsgn,
                                  _mm512_add_epi64(vc0, _mm512_mullo_epi64(j, vstep)), m,
                                  sigma, sadd, sslope, table, sh);
        _mm512_mask_i64scatter_ps(w, m, j, wv, 4);
        if (cnt) _mm512_mask_i64scatter_epi64(cnt, m, j, _mm512_add_epi64(
            _mm512_mask_i64gather_epi64(ones, m, j, cnt, 8), ones), 8);
    }
}

HW_AVX512 static void hwsim_counts_linear_avx512_f32(HW_CNT_ARGS_F32) {
    const __m512i vphi = HW_SET(HW_PHI), vkey = HW_SET(key), ones = HW_SET(1),
        izero = _mm512_setzero_si512();
    const __m128i sh = _mm_cvtsi32_si128(tshift);
    for (int64_t t = 0; t < len; t += 8) {
        __mmask8 m = (len - t >= 8) ? (__mmask8)0xFF : (__mmask8)((1u << (len - t)) - 1u);
        __m512i n = _mm512_maskz_loadu_epi64(m, counts + t);
        __m512i j = _mm512_maskz_loadu_epi64(m, idx + t);
        __mmask8 up = _mm512_mask_cmpgt_epi64_mask(m, n, izero);
        __m512i mag = _mm512_abs_epi64(n);
        __m256 wv = HW_GATHER_F32(m, j, w);
        __m256 dev = _mm256_mask_blend_ps(up, HW_GATHER_F32(m, j, dw_dn),
                                          HW_GATHER_F32(m, j, dw_up));
        __m256 pv = _mm256_mask_blend_ps(up, HW_GATHER_F32(m, j, pd), HW_GATHER_F32(m, j, pu));
        __m256 l = HW_GATHER_F32(m, j, lo), u = HW_GATHER_F32(m, j, hi);
        __m256 sgn = _mm256_mask_blend_ps(up, _mm256_set1_ps(-1.0f), _mm256_set1_ps(1.0f));
        __m512i x = _mm512_add_epi64(vkey, _mm512_mullo_epi64(
            _mm512_add_epi64(_mm512_slli_epi64(j, 32), ones), vphi));
        int64_t kmax = _mm512_mask_reduce_max_epi64(m, mag);
        for (int64_t k = 0; k < kmax; k++) {
            __mmask8 a = _mm512_mask_cmpgt_epi64_mask(m, mag, HW_SET(k));
            wv = _mm256_mask_blend_ps(a, wv, hw_pulse8_f32(wv, dev, pv, l, u, sgn, x, a,
                                                           sigma, sadd, sslope, table, sh));
            x = _mm512_add_epi64(x, vphi);
        }
        _mm512_mask_i64scatter_ps(w, m, j, wv, 4);
        if (cnt) _mm512_mask_i64scatter_epi64(cnt, m, j, _mm512_add_epi64(
            _mm512_mask_i64gather_epi64(izero, m, j, cnt, 8), mag), 8);
    }
}
#else
static int hwsim_has_avx512(void) { return 0; }
static __attribute__((unused)) void hwsim_linear_avx512(HW_LIN_ARGS) {}  /* never called */
static __attribute__((unused)) void hwsim_counts_linear_avx512(HW_CNT_ARGS) {}  /* never called */
static __attribute__((unused)) void hwsim_pack_avx512(HW_PACK_ARGS) {}  /* never called */
static __attribute__((unused)) void hwsim_linear_avx512_f32(HW_LIN_ARGS_F32) {}  /* never called */
static __attribute__((unused)) void hwsim_counts_linear_avx512_f32(HW_CNT_ARGS_F32) {}  /* never called */
#endif

#endif
