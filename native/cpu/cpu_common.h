/* Small helpers shared by the native CPU kernels (internal; not part of gearbox_cpu.h's API). */
#ifndef GEARBOX_CPU_COMMON_H
#define GEARBOX_CPU_COMMON_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* An fp16 at p (any alignment) as a float. */
static inline float fp16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* 4 bytes at p (any alignment) as a little-endian word. */
static inline uint32_t dword(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * The eight 6-bit scales and eight 6-bit mins of a Q4_K/Q5_K block's 12 packed bytes at p, as four
 * words of four bytes each: w[0] scales 0-3, w[1] scales 4-7, w[2] mins 0-3, w[3] mins 4-7. Scales
 * and mins 0-3 are the low 6 bits of bytes 0-3 and 4-7; scales 4-7 (mins 4-7) take their low 4 bits
 * from the low (high) nibbles of bytes 8-11 and their top 2 bits from the top bits of bytes 0-3 (4-7).
 */
static inline void q4k_scale_words(const uint8_t *p, uint32_t w[4]) {
    const uint32_t a0 = dword(p), a1 = dword(p + 4), a2 = dword(p + 8);
    w[0] = a0 & 0x3F3F3F3Fu;
    w[1] = (a2 & 0x0F0F0F0Fu) | ((a0 >> 6) & 0x03030303u) << 4;
    w[2] = a1 & 0x3F3F3F3Fu;
    w[3] = ((a2 >> 4) & 0x0F0F0F0Fu) | ((a1 >> 6) & 0x03030303u) << 4;
}
#endif
