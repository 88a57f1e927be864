/*
 * Decode products of K-quant weights (Q4_K, Q5_K, Q6_K: the types of the common Q4_K_M and Q5_K_M
 * files) with
 * activations quantized by gbx_cpu_quantize_q8 (blocks of 32 int8, one float scale each): byte dot
 * products (vpdpbusd) on the unsigned weight codes, then one float scale per sub-block. See
 * java/src/main/java/dev/gearbox/tensor/KQuants.java for the block layouts.
 */
#include "gearbox_cpu.h"
#include <immintrin.h>
#include <string.h>

static inline float fp16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* Lanes 0-7 from a, lanes 8-15 from b. */
static inline __m512 halves(float a, float b) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(a)), _mm256_castps_pd(_mm256_set1_ps(b)), 1));
}

/* Two 32-byte runs of activations as one 512-bit vector. */
static inline __m512i two_runs(const int8_t *a, const int8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/* The eight 6-bit scales (sc) and mins (m) of a Q4_K block's 12 packed bytes. */
static inline void q4k_scales(const uint8_t *p, uint8_t sc[8], uint8_t m[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = p[j] & 63;
        m[j] = p[j + 4] & 63;
        sc[j + 4] = (p[j + 8] & 0xF) | (p[j] >> 6) << 4;
        m[j + 4] = (p[j + 8] >> 4) | (p[j + 4] >> 6) << 4;
    }
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
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m512 acc = _mm512_setzero_ps();
        float offset = 0;
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = row + block_bytes * b;
            const int8_t *x = q + 256 * b;
            const float *dx = d + 8 * b;
            const float dd = fp16(blk), dmin = fp16(blk + 2);
            uint8_t sc[8], m[8];
            q4k_scales(blk + 4, sc, m);
            float k[8];
            for (int j = 0; j < 8; j++) {
                k[j] = dd * sc[j] * dx[j];
                offset += dmin * m[j] * dx[j] * (float)s[8 * b + j];
            }
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
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(plo), halves(k[4 * c], k[4 * c + 2]), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(phi), halves(k[4 * c + 1], k[4 * c + 3]), acc);
            }
        }
        y[r - r0] = _mm512_reduce_add_ps(acc) - offset;
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
    /* lane i (4 values) of a 64-value run belongs to sub-block i / 4 of the run's four */
    const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = row + 210 * b;
            const uint8_t *ql = blk, *qh = blk + 128;
            const int8_t *sc = (const int8_t *)(blk + 192);
            const float dd = fp16(blk + 208);
            const int8_t *x = q + 256 * b;
            const float *dx = d + 8 * b;
            float k[16];
            for (int j = 0; j < 16; j++) k[j] = dd * sc[j] * dx[j / 2];
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
                __m512 s0 = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_loadu_ps(k + 8 * h)));
                __m512 s1 = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_loadu_ps(k + 8 * h + 4)));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), s0, acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), s1, acc);
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
static const int spread4[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};

/* Four consecutive scales k[0..3], each over the four lanes of its sub-block. */
static inline __m512 per_subblock(const float *k) {
    return _mm512_permutexvar_ps(_mm512_loadu_si512((const void *)spread4), _mm512_castps128_ps512(_mm_loadu_ps(k)));
}

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
            const float *dx = d + 8 * b;
            float k[16], m[16];
            for (int j = 0; j < 16; j++) {
                k[j] = dd * (blk[j] & 0xF) * dx[j / 2];
                m[j] = dmin * (blk[j] >> 4) * dx[j / 2];
            }
            for (int h = 0; h < 2; h++) {
                __m512i lo, hi;
                two_bit_runs(blk + 16 + 32 * h, &lo, &hi);
                __m512i x0 = _mm512_loadu_si512((const void *)(x + 128 * h));
                __m512i x1 = _mm512_loadu_si512((const void *)(x + 128 * h + 64));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, x0)), per_subblock(k + 8 * h), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, x1)), per_subblock(k + 8 * h + 4), acc);
                /* the mins: dmin * m times the sum of x over each sub-block */
                mins = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, x0)), per_subblock(m + 8 * h), mins);
                mins = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, x1)), per_subblock(m + 8 * h + 4), mins);
            }
        }
        y[r - r0] = _mm512_reduce_add_ps(_mm512_sub_ps(acc, mins));
    }
}

/* Sixteen Q3_K scales (6 bits, offset by 32) from their 12 packed bytes, times f. */
static inline void q3k_scales(const uint8_t *p, float f, float out[16]) {
    for (int k = 0; k < 4; k++) {
        const int b0 = p[k], b1 = p[4 + k], hi = p[8 + k];
        out[k] = f * (((b0 & 0xF) | (hi & 3) << 4) - 32);
        out[4 + k] = f * (((b1 & 0xF) | (hi >> 2 & 3) << 4) - 32);
        out[8 + k] = f * (((b0 >> 4) | (hi >> 4 & 3) << 4) - 32);
        out[12 + k] = f * (((b1 >> 4) | (hi >> 6) << 4) - 32);
    }
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
            const float *dx = d + 8 * b;
            float k[16];
            q3k_scales(blk + 96, fp16(blk + 108), k);
            for (int j = 0; j < 16; j++) k[j] *= dx[j / 2];
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
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), per_subblock(k + 8 * h), acc);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), per_subblock(k + 8 * h + 4), acc);
            }
        }
        y[r - r0] = _mm512_reduce_add_ps(acc);
    }
}
