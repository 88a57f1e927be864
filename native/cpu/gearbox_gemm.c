/*
 * Prefill (several tokens) products of Q8_0/Q4_0/Q2_K..Q6_K weights with int8 activations; see gearbox_cpu.h.
 *
 * Why this layout: a dot product per (row, token) pair ends in 8 or 16 int32 lane sums that each
 * need converting, scaling by the two block scales and adding; that float work costs more than the
 * byte products themselves. Here each int32 lane is one weight row instead: a tile of 16 rows is
 * first repacked so that 4 consecutive values of every row sit side by side (lane i = row i), and
 * one vpdpbusd with the 4 matching activation bytes broadcast to all lanes advances 16 rows at once.
 * After the 8 such steps of a 32-value block each lane holds the whole block's dot product, and the
 * scaling is one multiply-add for 16 outputs. The repacked tile (576 bytes a block) stays in cache
 * while every token passes over it, a few tokens at a time so each weight load serves several.
 *
 * vpdpbusd multiplies unsigned by signed bytes. Activations stay signed; weights are stored as
 * value + off (unsigned: Q8_0 off 128 by flipping the sign bit, Q4_0 off 8 is its stored nibble), so
 * each block's sum is too large by off * sum(activation block), which the sums from quantizing
 * give: the accumulator starts at -off * s instead of 0.
 */
#include "gearbox_cpu.h"
#include "cpu_common.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define TILE_ROWS 16 /* also the row group of the repacked Q4_0 copy: tile t is group t */
#define TILE_TOKENS 4 /* the remainder switch in gbx_cpu_gemm lists 1..TILE_TOKENS-1 */
/* One repacked block: 16 float row scales, then 8 groups of 16 lanes x 4 bytes. */
#define PACKED_BLOCK (TILE_ROWS * 4 + 8 * 64)
/* The same for a K-quant 32-value sub-block, with 16 float row mins after the scales. */
#define PACKED_BLOCK_K (TILE_ROWS * 8 + 8 * 64)

/* The 32 code bytes of one row's block as 8 lanes of 4 bytes, 16 lanes (64 bytes) apart. */
static inline void spread_lanes(__m256i codes, uint32_t *lanes) {
    uint32_t v[8];
    _mm256_storeu_si256((__m256i *)v, codes);
    for (int k = 0; k < 8; k++) lanes[16 * k] = v[k];
}

/* Repacks Q8_0 rows [0, nr) of w into buf as described above; lanes of missing rows get zeros. */
static void pack_q8_0(const uint8_t *w, int64_t row_bytes, int nb, int nr, uint8_t *buf) {
    if (nr < TILE_ROWS) memset(buf, 0, (size_t)nb * PACKED_BLOCK);
    for (int i = 0; i < nr; i++) {
        const uint8_t *row = w + (int64_t)i * row_bytes;
        for (int b = 0; b < nb; b++) {
            uint8_t *dst = buf + (size_t)b * PACKED_BLOCK;
            const uint8_t *blk = row + 34 * b;
            ((float *)dst)[i] = fp16(blk);
            spread_lanes(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), _mm256_set1_epi8((char)0x80)),
                         (uint32_t *)(dst + TILE_ROWS * 4) + i);
        }
    }
}

/*
 * Unpacks one group of the decode kernel's Q4_0 copy (gearbox_cpu.h) into buf: it is already
 * 16 rows side by side, so this only splits nibbles into bytes (stored value = value + 8, so off
 * is 8) and widens the scales. Padding rows there have zero quants and scales.
 */
static void pack_q4_0_packed(const uint8_t *group, int nb, uint8_t *buf) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    const uint8_t *scales = group + (size_t)nb * 256;
    for (int b = 0; b < nb; b++) {
        uint8_t *dst = buf + (size_t)b * PACKED_BLOCK;
        _mm512_store_ps((void *)dst, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(scales + 32 * b))));
        for (int k = 0; k < 4; k++) {
            __m512i v = _mm512_loadu_si512((const void *)(group + 256 * b + 64 * k));
            _mm512_store_si512((void *)(dst + TILE_ROWS * 4 + 64 * k), _mm512_and_si512(v, low));
            _mm512_store_si512((void *)(dst + TILE_ROWS * 4 + 64 * (k + 4)), _mm512_and_si512(_mm512_srli_epi32(v, 4), low));
        }
    }
}

/*
 * Repacks Q4_K (fifth = 0) or Q5_K (fifth = 1) rows [0, nr) of w, one packed block per 32-value
 * sub-block: row i's scale d * sc and min dmin * m in float lanes i, then its 32 codes (0..15, or
 * 0..31 with Q5_K's fifth bit) as unsigned bytes, 4 per lane. Sub-block j of a 256-value block is
 * the low (j even) or high (j odd) nibbles of code bytes 32 * (j / 2).., its fifth bit bit j of
 * qh[l]. The sub-block then adds dx * (scale * P - min * sum(x)), P the codes' byte product.
 */
static void pack_q45_k(const uint8_t *w, int64_t row_bytes, int nb, int nr, int fifth, uint8_t *buf) {
    const int block_bytes = fifth ? 176 : 144, codes = fifth ? 48 : 16;
    if (nr < TILE_ROWS) memset(buf, 0, (size_t)nb * PACKED_BLOCK_K);
    for (int i = 0; i < nr; i++) {
        const uint8_t *row = w + (int64_t)i * row_bytes;
        for (int sb = 0; sb < nb / 8; sb++) {
            const uint8_t *blk = row + (int64_t)block_bytes * sb;
            const float dd = fp16(blk), dmin = fp16(blk + 2);
            const uint8_t *qh = blk + 16, *qs = blk + codes;
            uint8_t sm[16]; /* scales 0-7, then mins 0-7 */
            uint32_t words[4];
            q4k_scale_words(blk + 4, words);
            memcpy(sm, words, 16);
            for (int j = 0; j < 8; j++) {
                const int sc = sm[j], m = sm[8 + j];
                uint8_t *dst = buf + (size_t)(8 * sb + j) * PACKED_BLOCK_K;
                ((float *)dst)[i] = dd * (float)sc;
                ((float *)dst)[TILE_ROWS + i] = dmin * (float)m;
                /* the sub-block's 32 codes in one vector, then 4 bytes to each of row i's 8 lanes */
                __m256i c = _mm256_loadu_si256((const __m256i *)(qs + 32 * (j / 2)));
                c = _mm256_and_si256(_mm256_srli_epi16(c, 4 * (j & 1)), _mm256_set1_epi8(0x0F));
                if (fifth) {
                    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                    c = _mm256_or_si256(c, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, j), _mm256_set1_epi8(1)), 4));
                }
                spread_lanes(c, (uint32_t *)(dst + TILE_ROWS * 8) + i);
            }
        }
    }
}

/*
 * out[j * rows + i] = row i . token j for the packed tile, tokens j < nt (nt a constant after
 * inlining, so the accumulators stay in registers); keep masks off the padding rows.
 */
static inline __attribute__((always_inline)) void tile(const uint8_t *buf, int nb, int cols, int nt, int off,
                                                       const int8_t *q, const float *d, const int32_t *s,
                                                       float *out, int rows, __mmask16 keep, int mins) {
    /* with mins (K-quants): blocks of PACKED_BLOCK_K, row mins after the scales, codes after both */
    const size_t stride = mins ? PACKED_BLOCK_K : PACKED_BLOCK;
    const int codes = mins ? TILE_ROWS * 8 : TILE_ROWS * 4;
    __m512 acc[TILE_TOKENS];
    __m512i p[TILE_TOKENS];
    for (int j = 0; j < nt; j++) acc[j] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = buf + (size_t)b * stride;
        for (int j = 0; j < nt; j++) p[j] = _mm512_set1_epi32(-off * s[j * nb + b]);
        for (int k = 0; k < 8; k++) {
            __m512i wk = _mm512_load_si512((const void *)(blk + codes + 64 * k));
            for (int j = 0; j < nt; j++) {
                __m512i xk = _mm512_set1_epi32((int)dword((const uint8_t *)q + (size_t)j * cols + 32 * b + 4 * k));
                p[j] = _mm512_dpbusd_epi32(p[j], wk, xk);
            }
        }
        __m512 dw = _mm512_load_ps((const void *)blk);
        for (int j = 0; j < nt; j++) {
            __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(d[j * nb + b]));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p[j]), scale, acc[j]);
        }
        if (mins) {
            __m512 mw = _mm512_load_ps((const void *)(blk + TILE_ROWS * 4));
            for (int j = 0; j < nt; j++) acc[j] = _mm512_fnmadd_ps(mw, _mm512_set1_ps(d[j * nb + b] * (float)s[j * nb + b]), acc[j]);
        }
    }
    for (int j = 0; j < nt; j++) _mm512_mask_storeu_ps(out + (size_t)j * rows, keep, acc[j]);
}

/*
 * The 16-value sub-block types (Q6_K, Q3_K, Q2_K). Their sub-blocks are half an activation block,
 * so one float scale per (row, 32 values) does not fit; but their sub-block scales are small
 * integers, so the two halves are scaled in int32 (exact: |P| < 2^17, |scale| <= 128) and joined
 * before the one conversion and multiply-add per block that Q8_0 has. Here the roles of vpdpbusd's
 * operands swap: the weight codes are signed bytes (Q6_K q - 32, Q3_K -4..3, Q2_K 0..3) and the
 * activations unsigned, x + 128 (gbx_cpu_prepare_u8), so the surplus 128 * sum(codes of a half)
 * depends on the weights alone and is packed with them as the accumulator's start value. Q2_K's
 * mins take the per-16 sums of x: one more multiply-add per half.
 *
 * Packed block (per 32 values of 16 rows): float dw[16] (the super-block's d), int32 sc0[16] and
 * sc1[16] (the halves' scales), int32 c0[16], c1[16] (-128 * sum of the half's codes), float
 * mn0[16], mn1[16] (Q2_K: dmin * m, else 0), then 8 groups of 16 lanes x 4 code bytes.
 */
#define B16_SC0 64
#define B16_SC1 128
#define B16_C0 192
#define B16_C1 256
#define B16_MN0 320
#define B16_MN1 384
#define B16_CODES 448
#define PACKED_BLOCK_16 (B16_CODES + 8 * 64)

/*
 * Row i's codes (as signed bytes in one vector), scales and mins of the 32-value block c (0..7) of
 * a super-block at blk; value 32c + l is l of the vector.
 */
static inline __m256i codes_16(int type, const uint8_t *blk, int c, int *sc0, int *sc1, float *d, float *mn0, float *mn1) {
    const int h = c / 4, j = c % 4;
    const __m256i three = _mm256_set1_epi8(3);
    __m256i w;
    *mn0 = *mn1 = 0;
    if (type == GBX_Q6_K) {
        const __m256i ql = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32 * (j & 1)));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(ql, 4 * (j >> 1)), _mm256_set1_epi8(0x0F));
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), three);
        w = _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
        *sc0 = (int8_t)blk[192 + 2 * c];
        *sc1 = (int8_t)blk[192 + 2 * c + 1];
        *d = fp16(blk + 208);
    } else if (type == GBX_Q3_K) {
        /* low 2 bits, minus 4 where the third bit (bit 4h + j of hmask[l]) is clear */
        const __m256i qs = _mm256_loadu_si256((const __m256i *)(blk + 32 + 32 * h));
        const __m256i hm = _mm256_loadu_si256((const __m256i *)blk);
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), three);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), _mm256_set1_epi8(1));
        w = _mm256_sub_epi8(_mm256_add_epi8(low, _mm256_slli_epi16(high, 2)), _mm256_set1_epi8(4));
        const uint8_t *p = blk + 96;
        for (int e = 0; e < 2; e++) {
            const int k = 2 * c + e; /* low 4 bits: nibble of byte k % 8; top 2: bits 2 * (k / 4) of byte 8 + k % 4 */
            const int v = (((p[k & 7] >> (k < 8 ? 0 : 4)) & 0xF) | ((p[8 + (k & 3)] >> (2 * (k >> 2))) & 3) << 4) - 32;
            if (e == 0) *sc0 = v; else *sc1 = v;
        }
        *d = fp16(blk + 108);
    } else { /* Q2_K */
        w = _mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * h)), 2 * j), three);
        const float dmin = fp16(blk + 82);
        *sc0 = blk[2 * c] & 0xF;
        *sc1 = blk[2 * c + 1] & 0xF;
        *mn0 = dmin * (float)(blk[2 * c] >> 4);
        *mn1 = dmin * (float)(blk[2 * c + 1] >> 4);
        *d = fp16(blk + 80);
    }
    return w;
}

/* Repacks Q6_K/Q3_K/Q2_K rows [0, nr) of w as described above; missing rows get zeros. */
static void pack_16(int type, const uint8_t *w, int64_t row_bytes, int nb, int nr, uint8_t *buf) {
    const int block_bytes = type == GBX_Q6_K ? 210 : type == GBX_Q3_K ? 110 : 84;
    if (nr < TILE_ROWS) memset(buf, 0, (size_t)nb * PACKED_BLOCK_16);
    for (int i = 0; i < nr; i++) {
        const uint8_t *row = w + (int64_t)i * row_bytes;
        for (int b = 0; b < nb; b++) {
            uint8_t *dst = buf + (size_t)b * PACKED_BLOCK_16;
            int sc0, sc1;
            float d, mn0, mn1;
            const __m256i v = codes_16(type, row + (int64_t)block_bytes * (b / 8), b % 8, &sc0, &sc1, &d, &mn0, &mn1);
            /* sums of the signed codes of each half: four 8-byte sums of the unsigned bytes v + 128 */
            const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
            const int sum0 = _mm256_extract_epi32(sad, 0) + _mm256_extract_epi32(sad, 2) - 128 * 16;
            const int sum1 = _mm256_extract_epi32(sad, 4) + _mm256_extract_epi32(sad, 6) - 128 * 16;
            ((float *)dst)[i] = d;
            ((int32_t *)(dst + B16_SC0))[i] = sc0;
            ((int32_t *)(dst + B16_SC1))[i] = sc1;
            ((int32_t *)(dst + B16_C0))[i] = -128 * sum0;
            ((int32_t *)(dst + B16_C1))[i] = -128 * sum1;
            ((float *)(dst + B16_MN0))[i] = mn0;
            ((float *)(dst + B16_MN1))[i] = mn1;
            spread_lanes(v, (uint32_t *)(dst + B16_CODES) + i);
        }
    }
}

/* As tile() for the 16-value types: u holds x + 128, s16 the sums of x over 16 values (Q2_K's mins). */
static inline __attribute__((always_inline)) void tile_16(const uint8_t *buf, int nb, int cols, int nt, const uint8_t *u,
                                                          const float *d, const int32_t *s16, float *out, int rows,
                                                          __mmask16 keep, int mins) {
    __m512 acc[TILE_TOKENS];
    __m512i p0[TILE_TOKENS], p1[TILE_TOKENS];
    for (int j = 0; j < nt; j++) acc[j] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = buf + (size_t)b * PACKED_BLOCK_16;
        const __m512i c0 = _mm512_load_si512((const void *)(blk + B16_C0)), c1 = _mm512_load_si512((const void *)(blk + B16_C1));
        for (int j = 0; j < nt; j++) { p0[j] = c0; p1[j] = c1; }
        for (int k = 0; k < 4; k++) {
            __m512i w0 = _mm512_load_si512((const void *)(blk + B16_CODES + 64 * k));
            __m512i w1 = _mm512_load_si512((const void *)(blk + B16_CODES + 64 * (k + 4)));
            for (int j = 0; j < nt; j++) {
                const uint8_t *x = u + (size_t)j * cols + 32 * b;
                p0[j] = _mm512_dpbusd_epi32(p0[j], _mm512_set1_epi32((int)dword(x + 4 * k)), w0);
                p1[j] = _mm512_dpbusd_epi32(p1[j], _mm512_set1_epi32((int)dword(x + 16 + 4 * k)), w1);
            }
        }
        const __m512i sc0 = _mm512_load_si512((const void *)(blk + B16_SC0)), sc1 = _mm512_load_si512((const void *)(blk + B16_SC1));
        const __m512 dw = _mm512_load_ps((const void *)blk);
        for (int j = 0; j < nt; j++) {
            __m512i v = _mm512_add_epi32(_mm512_mullo_epi32(p0[j], sc0), _mm512_mullo_epi32(p1[j], sc1));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(dw, _mm512_set1_ps(d[j * nb + b])), acc[j]);
        }
        if (mins) {
            const __m512 m0 = _mm512_load_ps((const void *)(blk + B16_MN0)), m1 = _mm512_load_ps((const void *)(blk + B16_MN1));
            for (int j = 0; j < nt; j++) {
                const float dx = d[j * nb + b];
                acc[j] = _mm512_fnmadd_ps(m0, _mm512_set1_ps(dx * (float)s16[j * 2 * nb + 2 * b]), acc[j]);
                acc[j] = _mm512_fnmadd_ps(m1, _mm512_set1_ps(dx * (float)s16[j * 2 * nb + 2 * b + 1]), acc[j]);
            }
        }
    }
    for (int j = 0; j < nt; j++) _mm512_mask_storeu_ps(out + (size_t)j * rows, keep, acc[j]);
}

void gbx_cpu_prepare_u8(const int8_t *q, int64_t n, uint8_t *u, int32_t *s16) {
    const __m128i flip = _mm_set1_epi8((char)0x80);
    for (int64_t i = 0; i < n / 16; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(q + 16 * i));
        _mm_storeu_si128((__m128i *)(u + 16 * i), _mm_xor_si128(v, flip));
        s16[i] = _mm512_reduce_add_epi32(_mm512_cvtepi8_epi32(v));
    }
}

/* gbx_cpu_gemm for the 16-value sub-block types. */
static int gemm_16(int type, const uint8_t *w, int64_t row_bytes, int rows, int cols, int tile0, int tile1,
                   int n, const uint8_t *u, const float *d, const int32_t *s16, float *out) {
    const int nb = cols / 32;
    const int mins = type == GBX_Q2_K;
    uint8_t *buf = aligned_alloc(64, (size_t)nb * PACKED_BLOCK_16);
    if (buf == NULL) return -1;
    for (int t = tile0; t < tile1; t++) {
        int r0 = t * TILE_ROWS;
        int nr = rows - r0 < TILE_ROWS ? rows - r0 : TILE_ROWS;
        __mmask16 keep = (__mmask16)((1u << nr) - 1);
        pack_16(type, w + (int64_t)r0 * row_bytes, row_bytes, nb, nr, buf);
        int j = 0;
        for (; j + TILE_TOKENS <= n; j += TILE_TOKENS) {
            const uint8_t *uj = u + (size_t)j * cols;
            const float *dj = d + (size_t)j * nb;
            const int32_t *sj = s16 + (size_t)j * 2 * nb;
            float *oj = out + (size_t)j * rows + r0;
            if (mins) tile_16(buf, nb, cols, TILE_TOKENS, uj, dj, sj, oj, rows, keep, 1);
            else tile_16(buf, nb, cols, TILE_TOKENS, uj, dj, sj, oj, rows, keep, 0);
        }
        const uint8_t *uj = u + (size_t)j * cols;
        const float *dj = d + (size_t)j * nb;
        const int32_t *sj = s16 + (size_t)j * 2 * nb;
        float *oj = out + (size_t)j * rows + r0;
        switch (n - j) {
            case 3: if (mins) tile_16(buf, nb, cols, 3, uj, dj, sj, oj, rows, keep, 1); else tile_16(buf, nb, cols, 3, uj, dj, sj, oj, rows, keep, 0); break;
            case 2: if (mins) tile_16(buf, nb, cols, 2, uj, dj, sj, oj, rows, keep, 1); else tile_16(buf, nb, cols, 2, uj, dj, sj, oj, rows, keep, 0); break;
            case 1: if (mins) tile_16(buf, nb, cols, 1, uj, dj, sj, oj, rows, keep, 1); else tile_16(buf, nb, cols, 1, uj, dj, sj, oj, rows, keep, 0); break;
            default: break;
        }
    }
    free(buf);
    return 0;
}

int gbx_cpu_gemm(int type, const uint8_t *w, int64_t row_bytes, int rows, int cols, int tile0, int tile1,
                 int n, const int8_t *q, const float *d, const int32_t *s, float *out) {
    if (type == GBX_Q6_K || type == GBX_Q3_K || type == GBX_Q2_K)
        return gemm_16(type, w, row_bytes, rows, cols, tile0, tile1, n, (const uint8_t *)q, d, s, out);
    const int nb = cols / 32;
    const int kq = type == GBX_Q4_K || type == GBX_Q5_K;
    const int off = type == GBX_Q8_0 ? 128 : type == GBX_Q4_0_PACKED ? 8 : 0;
    uint8_t *buf = aligned_alloc(64, (size_t)nb * (kq ? PACKED_BLOCK_K : PACKED_BLOCK));
    if (buf == NULL) return -1;
    for (int t = tile0; t < tile1; t++) {
        int r0 = t * TILE_ROWS;
        int nr = rows - r0 < TILE_ROWS ? rows - r0 : TILE_ROWS;
        __mmask16 keep = (__mmask16)((1u << nr) - 1);
        if (type == GBX_Q8_0) pack_q8_0(w + (int64_t)r0 * row_bytes, row_bytes, nb, nr, buf);
        else if (kq) pack_q45_k(w + (int64_t)r0 * row_bytes, row_bytes, nb, nr, type == GBX_Q5_K, buf);
        else pack_q4_0_packed(w + (int64_t)t * nb * GBX_Q4P_GROUP_BLOCK, nb, buf);
        int j = 0;
        for (; j + TILE_TOKENS <= n; j += TILE_TOKENS) {
            if (kq) tile(buf, nb, cols, TILE_TOKENS, off, q + (size_t)j * cols, d + (size_t)j * nb, s + (size_t)j * nb,
                         out + (size_t)j * rows + r0, rows, keep, 1);
            else tile(buf, nb, cols, TILE_TOKENS, off, q + (size_t)j * cols, d + (size_t)j * nb, s + (size_t)j * nb,
                      out + (size_t)j * rows + r0, rows, keep, 0);
        }
        /* The last n % TILE_TOKENS tokens, each count its own unrolled copy. */
        const int8_t *qj = q + (size_t)j * cols;
        const float *dj = d + (size_t)j * nb;
        const int32_t *sj = s + (size_t)j * nb;
        float *oj = out + (size_t)j * rows + r0;
        switch (n - j) {
            case 3: if (kq) tile(buf, nb, cols, 3, off, qj, dj, sj, oj, rows, keep, 1); else tile(buf, nb, cols, 3, off, qj, dj, sj, oj, rows, keep, 0); break;
            case 2: if (kq) tile(buf, nb, cols, 2, off, qj, dj, sj, oj, rows, keep, 1); else tile(buf, nb, cols, 2, off, qj, dj, sj, oj, rows, keep, 0); break;
            case 1: if (kq) tile(buf, nb, cols, 1, off, qj, dj, sj, oj, rows, keep, 1); else tile(buf, nb, cols, 1, off, qj, dj, sj, oj, rows, keep, 0); break;
            default: break;
        }
    }
    free(buf);
    return 0;
}
