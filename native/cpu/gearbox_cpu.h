/*
 * Gearbox CPU fast path: matrix products of Q8_0 and Q4_0 weights with the activations quantized
 * to 8 bits, using the CPU's byte dot-product instruction (AVX-512 VNNI), which the Java Vector
 * API cannot express. Decode (one token): gearbox_cpu.c for Q8_0, gearbox_q4_0.c on a repacked
 * Q4_0 copy; prefill (several tokens): gearbox_gemm.c. Java calls these through Panama downcalls and keeps
 * the Vector API kernels for every other case (and where this library or VNNI is absent).
 *
 * Layouts are GGML's unless said otherwise: a Q8_0 block is an fp16 scale then 32 int8; a Q4_0 block is an fp16 scale
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
 * Q8_0 decode: y[r - r0] = dot(row r of W, x) for r in [r0, r1), W given by its first byte and
 * row stride in bytes, rows of `cols` values; x given as produced by gbx_cpu_quantize_q8.
 */
void gbx_cpu_matvec_q8_0(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y);


/* Weight layouts for gbx_cpu_gemm: GGML's Q8_0 and K-quants, and the decode kernel's repacked Q4_0 copy. */
#define GBX_Q8_0 0
#define GBX_Q4_0_PACKED 1
#define GBX_Q4_K 2 /* GGML's layout, as for the Q8_0 matvec */
#define GBX_Q5_K 3
/* The 16-value sub-block types (GGML's layout): q and s are then as from gbx_cpu_prepare_u8. */
#define GBX_Q6_K 4
#define GBX_Q3_K 5
#define GBX_Q2_K 6

/*
 * For gbx_cpu_gemm with GBX_Q6_K/Q3_K/Q2_K: from n bytes q (n a multiple of 16) as quantized by
 * gbx_cpu_quantize_q8, u[i] = q[i] + 128 as an unsigned byte and s16[k] = sum of q[16k, 16k + 16).
 * Those types take u in place of q and s16 in place of s (d stays as quantized).
 */
void gbx_cpu_prepare_u8(const int8_t *q, int64_t n, uint8_t *u, int32_t *s16);

/*
 * Prefill product: out[t * rows + r] = dot(row r of W, token t of x) for tokens t < n and rows r in
 * [16 * tile0, min(16 * tile1, rows)). W is GBX_Q8_0 (given as for the Q8_0 matvec) or
 * GBX_Q4_0_PACKED (the copy from gbx_cpu_pack_q4_0; row_bytes unused). x is n rows of `cols` values
 * quantized by gbx_cpu_quantize_q8 (q[t * cols + i], d and s [t * cols / 32 + b]).
 * Returns 0, or -1 when its scratch buffer (cols * 18 bytes) cannot be allocated.
 */
/*
 * Q4_0 repacked for decode (gearbox_q4_0.c). Rows go in groups of 16 (the last padded with zero
 * rows); a group of a matrix with nb blocks per row takes nb * GBX_Q4P_GROUP_BLOCK bytes: first the
 * quants of every block, 256 bytes each, where bytes [64k + 4i, 64k + 4i + 4) are quant bytes
 * 4k..4k+3 of row i's block (so low nibbles are values 4k.., high nibbles values 16 + 4k..), then
 * the blocks' fp16 scales, 16 per block in row order. Same size as GGML's layout for full groups.
 */
#define GBX_Q4P_GROUP_BLOCK 288
int64_t gbx_cpu_q4_0_packed_size(int rows, int cols);
/* Packs groups [g0, g1) of W (GGML Q4_0, rows of `cols` values, stride row_bytes) into dst. */
void gbx_cpu_pack_q4_0(const uint8_t *w, int64_t row_bytes, int rows, int cols, int g0, int g1, uint8_t *dst);
/* Q4_0 decode on the packed copy p: as the Q8_0 matvec, x with its block sums s, for rows
 * [16 * g0, min(16 * g1, rows)); y[0] is row 16 * g0. */
void gbx_cpu_matvec_q4_0_packed(const uint8_t *p, int rows, int cols, int g0, int g1,
                                const int8_t *q, const float *d, const int32_t *s, float *y);

int gbx_cpu_gemm(int type, const uint8_t *w, int64_t row_bytes, int rows, int cols, int tile0, int tile1,
                 int n, const int8_t *q, const float *d, const int32_t *s, float *out);

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
