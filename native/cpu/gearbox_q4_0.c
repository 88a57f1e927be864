/*
 * Q4_0 decode on a repacked copy of the weights; see gearbox_cpu.h for the layout.
 *
 * Why repack: in GGML's layout every 18-byte block of a row needs its own 16-byte load, nibble
 * split, scale conversion and horizontal bookkeeping, so a row-at-a-time matvec is bound by
 * instruction count (about 19 GB/s on 2 cores against 47 GB/s for Q8_0). Transposed into groups of
 * 16 rows, one 64-byte load brings 4 quant bytes of each of 16 rows, one and / shift+and gives
 * their low and high nibbles, and vpdpbusd against 4 broadcast activation bytes advances all 16
 * rows' sums at once (int32 lane i = row i). A block then ends with one conversion and one
 * multiply-add for 16 rows instead of per-row reductions.
 */
#include "gearbox_cpu.h"
#include "cpu_common.h"
#include <immintrin.h>
#include <string.h>

#define GROUP 16

int64_t gbx_cpu_q4_0_packed_size(int rows, int cols) {
    return (int64_t)((rows + GROUP - 1) / GROUP) * (cols / 32) * GBX_Q4P_GROUP_BLOCK;
}

void gbx_cpu_pack_q4_0(const uint8_t *w, int64_t row_bytes, int rows, int cols, int g0, int g1, uint8_t *dst) {
    const int nb = cols / 32;
    for (int g = g0; g < g1; g++) {
        uint8_t *quants = dst + (int64_t)g * nb * GBX_Q4P_GROUP_BLOCK;
        uint16_t *scales = (uint16_t *)(quants + (int64_t)nb * 256);
        for (int i = 0; i < GROUP; i++) {
            int r = g * GROUP + i;
            for (int b = 0; b < nb; b++) {
                uint32_t *lanes = (uint32_t *)(quants + 256 * b) + i;
                if (r >= rows) { /* padding rows of the last group: zero scale, zero quants */
                    scales[GROUP * b + i] = 0;
                    for (int k = 0; k < 4; k++) lanes[16 * k] = 0;
                    continue;
                }
                const uint8_t *blk = w + (int64_t)r * row_bytes + 18 * b;
                memcpy(&scales[GROUP * b + i], blk, 2);
                for (int k = 0; k < 4; k++) lanes[16 * k] = dword(blk + 2 + 4 * k);
            }
        }
    }
}

void gbx_cpu_matvec_q4_0_packed(const uint8_t *p, int rows, int cols, int g0, int g1,
                                const int8_t *q, const float *d, const int32_t *s, float *y) {
    const int nb = cols / 32;
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (int g = g0; g < g1; g++) {
        const uint8_t *quants = p + (int64_t)g * nb * GBX_Q4P_GROUP_BLOCK;
        const uint8_t *scales = quants + (int64_t)nb * 256;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = quants + 256 * b;
            const uint8_t *x = (const uint8_t *)q + 32 * b;
            /* Stored nibbles are value + 8: start at -8 * sum(x) so the block's sum comes out right.
             * Low and high nibbles accumulate separately to halve the dependency chain. */
            __m512i plo = _mm512_set1_epi32(-8 * s[b]), phi = _mm512_setzero_si512();
            for (int k = 0; k < 4; k++) {
                __m512i v = _mm512_loadu_si512((const void *)(blk + 64 * k));
                __m512i lo = _mm512_and_si512(v, low);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi32(v, 4), low);
                plo = _mm512_dpbusd_epi32(plo, lo, _mm512_set1_epi32((int)dword(x + 4 * k)));
                phi = _mm512_dpbusd_epi32(phi, hi, _mm512_set1_epi32((int)dword(x + 16 + 4 * k)));
            }
            __m512 scale = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(scales + 32 * b))),
                                         _mm512_set1_ps(d[b]));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(plo, phi)), scale, acc);
        }
        int r0 = g * GROUP;
        int nr = rows - r0 < GROUP ? rows - r0 : GROUP;
        _mm512_mask_storeu_ps(y + (r0 - g0 * GROUP), (__mmask16)((1u << nr) - 1), acc);
    }
}
