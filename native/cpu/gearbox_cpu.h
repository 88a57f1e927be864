/*
 * Gearbox CPU fast path: decode matrix-vector products of Q8_0 and Q4_0 weights with the
 * activations quantized to 8 bits, using the CPU's byte dot-product instruction (AVX-512 VNNI),
 * which the Java Vector API cannot express. Java calls these through Panama downcalls and keeps
 * the Vector API kernels for every other case (and where this library or VNNI is absent).
 *
 * Layouts are GGML's: a Q8_0 block is an fp16 scale then 32 int8; a Q4_0 block is an fp16 scale
 * then 16 bytes whose low nibbles are values 0..15 and high nibbles values 16..31 (each minus 8).
 */
#ifndef GEARBOX_CPU_H
#define GEARBOX_CPU_H
#include <stdint.h>

/* 1 when the running CPU has what these kernels need (AVX-512 F/BW/VL + VNNI + F16C), else 0. */
int gbx_cpu_supported(void);

/*
 * Quantizes x[0, n) (n a multiple of 32) to blocks of 32 int8 with one float scale each:
 * q[i] = round(x[i] / d[b]), d[b] = max|x in block b| / 127. s[b] = sum of q in block b.
 */
void gbx_cpu_quantize_q8(const float *x, int n, int8_t *q, float *d, int32_t *s);

/*
 * y[r - r0] = dot(row r of W, x) for r in [r0, r1), W given by its first byte and row stride in
 * bytes, rows of `cols` values; x given as produced by gbx_cpu_quantize_q8.
 */
void gbx_cpu_matvec_q8_0(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y);
void gbx_cpu_matvec_q4_0(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, const int32_t *s, float *y);

/*
 * K-quant decode products (kquants.c), x as from gbx_cpu_quantize_q8 (cols a multiple of 256):
 * Q4_K and Q5_K need the block sums s (their mins), Q6_K does not.
 */
void gbx_cpu_matvec_q4_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, const int32_t *s, float *y);
void gbx_cpu_matvec_q5_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, const int32_t *s, float *y);
void gbx_cpu_matvec_q6_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y);
/* Q2_K (its mins come from per-sub-block sums of x made in the kernel) and Q3_K. */
void gbx_cpu_matvec_q2_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y);
void gbx_cpu_matvec_q3_k(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y);
#endif
