/*
 * Decode products of K-quant weights (Q4_K, Q5_K, Q6_K: the types of the common Q4_K_M and Q5_K_M
 * files) with
 * activations quantized by gbx_cpu_quantize_q8 (blocks of 32 int8, one float scale each): byte dot
 * products (vpdpbusd) on the unsigned weight codes, then one float scale per sub-block. See
 * java/src/main/java/dev/gearbox/tensor/KQuants.java for the block layouts.
 */
#include "gearbox_cpu.h"
#include "cpu_common.h"
#include <immintrin.h>
#include <string.h>

/* Two 32-byte runs of activations as one 512-bit vector. */
static inline __m512i two_runs(const int8_t *a, const int8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/* The 8 activation block scales dx[0..8) spread to 16 lanes, each twice: one per 16-value sub-block. */
static inline __m512 dx_pairs(const float *dx) {
    const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    return _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_loadu_ps(dx)));
}

/* Lanes of a 64-value run that holds sub-blocks 4i..4i+3 of a block's sixteen: each of k's 16
   per-sub-block factors over the four 4-value lanes of its sub-block. */
static inline __m512 spread_run(__m512 k, int i) {
    const __m512i base = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    return _mm512_permutexvar_ps(_mm512_add_epi32(base, _mm512_set1_epi32(4 * i)), k);
}

/* A Q4_K/Q5_K block's eight scales and eight mins (cpu_common.h) as 8 floats each. */
static inline void q4k_scales(const uint8_t *p, __m256 *sc, __m256 *m) {
    uint32_t w[4];
    q4k_scale_words(p, w);
    *sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)w[1], (int)w[0])));
    *m = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)w[3], (int)w[2])));
}

/* Bits `shift` and `shift + 2` of each of the 32 bytes at qh, as the values' fifth bit (16 or 0), in two 32-byte runs. */
static inline __m512i fifth_bits(__m256i qh, int shift) {
    const __m256i one = _mm256_set1_epi8(1);
    __m256i a = _mm256_and_si256(_mm256_srli_epi16(qh, shift), one);
    __m256i b = _mm256_and_si256(_mm256_srli_epi16(qh, shift + 2), one);
    return _mm512_slli_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1), 4);
}

/*
 * Q4_K (144-byte blocks, codes at 16) and Q5_K (176-byte blocks, 32 bytes of fifth bits at 16,
 * codes at 48: value 64c'+l takes bit 2c' of qh[l], value 64c'+32+l bit 2c'+1). Always inlined so
 * each entry point below gets its own loop with the layout constants folded in.
 */
static inline __attribute__((always_inline)) void matvec_q45_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                                                               const int8_t *q, const float *d, const int32_t *s, float *y,
                                                               int block_bytes, int fifth) {
    const int nb = cols / 256, codes = fifth ? 48 : 16;
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    /* which of a block's 8 sub-block scales each 8-lane half of a product takes: {4c, 4c+2} for the
       low nibbles of code bytes 64c.., {4c+1, 4c+3} for the high ones */
    const __m512i pick[4] = {
        _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0),
        _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
        _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4),
        _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 5, 5, 5, 5, 5, 5, 5, 5)};
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m512 acc = _mm512_setzero_ps();
        __m256 mins = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = row + block_bytes * b;
            const int8_t *x = q + 256 * b;
            const __m256 dx = _mm256_loadu_ps(d + 8 * b);
            __m256 sc, m;
            q4k_scales(blk + 4, &sc, &m);
            /* k[j] = d * sc_j * dx_j; the mins' share, dmin * m_j * dx_j * sum(x in sub-block j), in lanes */
            const __m512 k = _mm512_castps256_ps512(_mm256_mul_ps(_mm256_mul_ps(sc, dx), _mm256_set1_ps(fp16(blk))));
            const __m256 xs = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(s + 8 * b)));
            mins = _mm256_fmadd_ps(_mm256_mul_ps(m, _mm256_set1_ps(fp16(blk + 2))), _mm256_mul_ps(dx, xs), mins);
            const __m256i qh = fifth ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
            /* 64 bytes of codes = 128 values: low nibbles are sub-blocks 4c and 4c+2, high nibbles 4c+1 and 4c+3. */
            for (int c = 0; c < 2; c++) {
                __m512i bytes = _mm512_loadu_si512((const void *)(blk + codes + 64 * c));
                __m512i lo = _mm512_and_si512(bytes, low4);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4);
                if (fifth) {
                    lo = _mm512_or_si512(lo, fifth_bits(qh, 4 * c));
                    hi = _mm512_or_si512(hi, fifth_bits(qh, 4 * c + 1));
                }
                const int8_t *xc = x + 128 * c;
                __m512i plo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, two_runs(xc, xc + 64));
                __m512i phi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, two_runs(xc + 32, xc + 96));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(plo), _mm512_permutexvar_ps(pick[2 * c], k), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(phi), _mm512_permutexvar_ps(pick[2 * c + 1], k), acc);
            }
        }
        __m128 m4 = _mm_add_ps(_mm256_castps256_ps128(mins), _mm256_extractf128_ps(mins, 1));
        m4 = _mm_add_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_add_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        y[r - r0] = _mm512_reduce_add_ps(acc) - _mm_cvtss_f32(m4);
    }
}

void gbx_cpu_matvec_q4_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, const int32_t *s, float *y) {
    matvec_q45_k(w, row_bytes, cols, r0, r1, q, d, s, y, 144, 0);
}

void gbx_cpu_matvec_q5_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, const int32_t *s, float *y) {
    matvec_q45_k(w, row_bytes, cols, r0, r1, q, d, s, y, 176, 1);
}

void gbx_cpu_matvec_q6_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y) {
    const int nb = cols / 256;
    const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(0x03), k32 = _mm512_set1_epi8(32);
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = row + 210 * b;
            const uint8_t *ql = blk, *qh = blk + 128;
            const int8_t *sc = (const int8_t *)(blk + 192);
            const float dd = fp16(blk + 208);
            const int8_t *x = q + 256 * b;
            const __m512 k = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)sc))),
                                           _mm512_mul_ps(dx_pairs(d + 8 * b), _mm512_set1_ps(dd)));
            for (int h = 0; h < 2; h++) {
                /* 64 bytes of low bits: low nibbles are values 0..63 of this half, high nibbles 64..127;
                   32 bytes of high bits: bit pairs 0,1,2,3 (from the bottom) for values 0..31, 32..63, 64..95, 96..127. */
                __m512i l = _mm512_loadu_si512((const void *)(ql + 64 * h));
                __m256i hb = _mm256_loadu_si256((const __m256i *)(qh + 32 * h));
                __m512i hbits = _mm512_inserti64x4(_mm512_castsi256_si512(hb), _mm256_srli_epi16(hb, 2), 1);
                __m512i hbits2 = _mm512_srli_epi16(hbits, 4);
                __m512i u0 = _mm512_or_si512(_mm512_and_si512(l, low4), _mm512_slli_epi16(_mm512_and_si512(hbits, low2), 4));
                __m512i u1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4),
                                             _mm512_slli_epi16(_mm512_and_si512(hbits2, low2), 4));
                __m512i x0 = _mm512_loadu_si512((const void *)(x + 128 * h));
                __m512i x1 = _mm512_loadu_si512((const void *)(x + 128 * h + 64));
                /* codes are q + 32 (0..63): take 32 * x back off in the same lanes */
                __m512i p0 = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u0, x0),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), k32, x0));
                __m512i p1 = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u1, x1),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), k32, x1));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), spread_run(k, 2 * h), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), spread_run(k, 2 * h + 1), acc);
            }
        }
        y[r - r0] = _mm512_reduce_add_ps(acc);
    }
}

/*
 * Q2_K and Q3_K: sixteen sub-blocks of 16 values; value 128h + 32j + l is bits 2j..2j+1 of
 * qs[32h + l]. A half's 32 code bytes give two 64-value runs: groups j = 0, 1 (values 0..63 of the
 * half) and j = 2, 3 (values 64..127), each contiguous in x. Every 4-value lane of a run belongs to
 * sub-block lane / 4 of the run's four.
 */
/* The 2-bit codes of one half: *lo = groups 0, 1 and *hi = groups 2, 3, one byte per value. */
static inline void two_bit_runs(const uint8_t *qs, __m512i *lo, __m512i *hi) {
    const __m512i three = _mm512_set1_epi8(3);
    __m256i b = _mm256_loadu_si256((const __m256i *)qs);
    __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(b), _mm256_srli_epi16(b, 2), 1);
    *lo = _mm512_and_si512(v, three);
    *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), three);
}

void gbx_cpu_matvec_q2_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y) {
    const int nb = cols / 256;
    const __m512i ones = _mm512_set1_epi8(1);
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m512 acc = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = row + 84 * b;
            const float dd = fp16(blk + 80), dmin = fp16(blk + 82);
            const int8_t *x = q + 256 * b;
            const __m512 dxp = dx_pairs(d + 8 * b);
            /* byte j of the 16 scale bytes: sub-block j's scale (low nibble) and min (high nibble) */
            const __m512i sm = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)blk));
            const __m512 k = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(sm, _mm512_set1_epi32(0xF))), _mm512_mul_ps(dxp, _mm512_set1_ps(dd)));
            const __m512 m = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(sm, 4)), _mm512_mul_ps(dxp, _mm512_set1_ps(dmin)));
            for (int h = 0; h < 2; h++) {
                __m512i lo, hi;
                two_bit_runs(blk + 16 + 32 * h, &lo, &hi);
                __m512i x0 = _mm512_loadu_si512((const void *)(x + 128 * h));
                __m512i x1 = _mm512_loadu_si512((const void *)(x + 128 * h + 64));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, x0)), spread_run(k, 2 * h), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, x1)), spread_run(k, 2 * h + 1), acc);
                /* the mins: dmin * m times the sum of x over each sub-block */
                mins = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, x0)), spread_run(m, 2 * h), mins);
                mins = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, x1)), spread_run(m, 2 * h + 1), mins);
            }
        }
        y[r - r0] = _mm512_reduce_add_ps(_mm512_sub_ps(acc, mins));
    }
}

/*
 * Sixteen Q3_K scales (6 bits, stored offset by 32) from their 12 packed bytes as 16 lanes: scale
 * k, 4+k, 8+k, 12+k (k < 4) take their low 4 bits from the low nibble of byte k, the low nibble of
 * byte 4+k, the high nibble of byte k and the high nibble of byte 4+k, and their top 2 bits from
 * bits 0-1, 2-3, 4-5, 6-7 of byte 8+k; done on three 32-bit words, four scales each.
 */
static inline __m512 q3k_scales(const uint8_t *p) {
    const uint32_t a0 = dword(p), a1 = dword(p + 4), a2 = dword(p + 8);
    const uint32_t nib = 0x0F0F0F0Fu, two = 0x03030303u;
    const uint32_t w0 = (a0 & nib) | (a2 & two) << 4, w1 = (a1 & nib) | ((a2 >> 2) & two) << 4;
    const uint32_t w2 = ((a0 >> 4) & nib) | ((a2 >> 4) & two) << 4, w3 = ((a1 >> 4) & nib) | ((a2 >> 6) & two) << 4;
    __m512i v = _mm512_cvtepu8_epi32(_mm_set_epi32((int)w3, (int)w2, (int)w1, (int)w0));
    return _mm512_cvtepi32_ps(_mm512_sub_epi32(v, _mm512_set1_epi32(32)));
}

void gbx_cpu_matvec_q3_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y) {
    const int nb = cols / 256;
    const __m256i one = _mm256_set1_epi8(1);
    const __m512i four = _mm512_set1_epi8(4);
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = row + 110 * b;
            const int8_t *x = q + 256 * b;
            const __m512 k = _mm512_mul_ps(q3k_scales(blk + 96), _mm512_mul_ps(dx_pairs(d + 8 * b), _mm512_set1_ps(fp16(blk + 108))));
            __m256i hm = _mm256_loadu_si256((const __m256i *)blk);
            for (int h = 0; h < 2; h++) {
                __m512i lo, hi;
                two_bit_runs(blk + 32 + 32 * h, &lo, &hi);
                /* the third bit of group j is bit 4h + j of hmask[l]; set means the code stands as it is,
                   clear means 4 less: with the bit as +4, codes are q + 4 in 0..7 */
                __m256i g0 = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h), one);
                __m256i g1 = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + 1), one);
                __m256i g2 = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + 2), one);
                __m256i g3 = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + 3), one);
                lo = _mm512_or_si512(lo, _mm512_slli_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(g0), g1, 1), 2));
                hi = _mm512_or_si512(hi, _mm512_slli_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(g2), g3, 1), 2));
                __m512i x0 = _mm512_loadu_si512((const void *)(x + 128 * h));
                __m512i x1 = _mm512_loadu_si512((const void *)(x + 128 * h + 64));
                __m512i p0 = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, x0),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), four, x0));
                __m512i p1 = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, x1),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), four, x1));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), spread_run(k, 2 * h), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), spread_run(k, 2 * h + 1), acc);
            }
        }
        y[r - r0] = _mm512_reduce_add_ps(acc);
    }
}
