/*
 * gearbox_cuda.h - the whole C API of libgearbox_cuda.so, the CUDA kernels behind Gearbox's
 * CUDA backend. Plain C types only, so java.lang.foreign (Panama) can bind every function.
 *
 * Conventions (apply to every function below unless its comment says otherwise):
 *  - Every function returns an int: a cudaError_t code, 0 = success. Bad arguments (unknown tensor
 *    type, negative sizes, a shape the kernel cannot handle) return 1 (cudaErrorInvalidValue)
 *    before anything is launched. Launch functions return cudaGetLastError() after the launch, so
 *    launch-configuration errors show at once; errors of the kernel itself show at the next sync.
 *  - Pointers named d_* are DEVICE pointers (plain addresses from cudaMalloc, e.g. via JavaCPP);
 *    h_* pointers are HOST memory. Nothing here allocates or frees device memory.
 *  - `stream` is a cudaStream_t passed as void*; NULL means the legacy default stream. All work is
 *    enqueued asynchronously on that stream; nothing here synchronizes, so every launch function
 *    can be captured into a CUDA graph.
 *  - Activations are F32, row-major, one row per token (as Backend.java's buffers).
 *  - Tensor types use the GGUF/GGML ids of tensor/GGMLType.java (GBX_TYPE_*). Weight matrices are
 *    stored exactly as in the GGUF file: `rows` rows of `cols` values, each row cols/blockSize
 *    blocks, rows packed back to back (row stride = gbx_row_bytes). Blocks are NOT aligned (18, 20,
 *    22, 34, 144, 176, 210 bytes); kernels read bytes and halves only, so a weight needs only a 2-byte
 *    aligned address (F32 weights: 4-byte); cudaMalloc'd memory always qualifies.
 *  - 1-D weights (norm gains, biases) are passed as F32 device arrays (dequantize them on the host
 *    once at load, as CpuBackend does).
 *  - Position-dependent ops (rope, store_kv, attention) take `pos0` and an optional device pointer
 *    `d_pos0` (int32). When d_pos0 is non-NULL the position is read from device memory at run time
 *    and `pos0` is ignored: that lets one captured CUDA graph serve every decode step (the Java side
 *    copies each step's position into that int32 before it replays the graph).
 */
#ifndef GEARBOX_CUDA_H
#define GEARBOX_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define GBX_API __declspec(dllexport)
#else
#define GBX_API __attribute__((visibility("default")))
#endif

/* Tensor type ids: GGUF's, as tensor/GGMLType.java. Only these have kernels. */
#define GBX_TYPE_F32 0
#define GBX_TYPE_F16 1
#define GBX_TYPE_Q4_0 2
#define GBX_TYPE_Q4_1 3
#define GBX_TYPE_Q5_0 6
#define GBX_TYPE_Q8_0 8
#define GBX_TYPE_Q2_K 10
#define GBX_TYPE_Q3_K 11
#define GBX_TYPE_Q4_K 12
#define GBX_TYPE_Q5_K 13
#define GBX_TYPE_Q6_K 14
#define GBX_TYPE_BF16 30

/* The API version; bump when a signature changes (2: gbx_sample gained top_p and min_p; 3: gbx_sample
 * reads its seed from device memory and can write the chosen token's log-probability; profiling
 * events and NVTX ranges added; 4: gbx_copy and gbx_add_int removed, unused). */
#define GBX_API_VERSION 4

/* ---- library, devices, errors ------------------------------------------------------------- */

/* GBX_API_VERSION of the built library (compare with the header the binding was written for). */
GBX_API int gbx_api_version(void);

/* Human-readable text of an error code returned by any gbx_* function (cudaGetErrorString).
 * Never NULL; the string is static. */
GBX_API const char* gbx_error_string(int code);

/* Number of CUDA devices. With no driver/GPU this returns the CUDA error (e.g. 35 or 100) and
 * sets *h_count to 0. */
GBX_API int gbx_device_count(int* h_count);

/* Runtime and driver versions as CUDA encodes them (13000 = 13.0). Driver 0 = no driver. */
GBX_API int gbx_versions(int* h_runtime, int* h_driver);

/* Facts about device `device` (it becomes the current device of the calling thread):
 * free and total memory in bytes, name (NUL-terminated, truncated to name_cap bytes),
 * compute capability, SM count, memory clock (kHz) and bus width (bits); peak memory bandwidth
 * in bytes/s is 2 * mem_clock_khz * 1000 * bus_width_bits / 8 (double data rate).
 * Any output pointer may be NULL. */
GBX_API int gbx_device_info(int device, size_t* h_free, size_t* h_total, char* h_name, int name_cap,
                            int* h_cc_major, int* h_cc_minor, int* h_sm_count,
                            int* h_mem_clock_khz, int* h_bus_width_bits);

/* Bytes of one row of `cols` values of `type` (cols must be a multiple of the block size). */
GBX_API int gbx_row_bytes(int type, int64_t cols, size_t* h_bytes);

/* ---- weights ------------------------------------------------------------------------------ */

/* Embedding lookup: out[i, :] = dequantize(table row d_tokens[i]) for i < n.
 * d_table: [vocab x cols] of `type`; d_tokens: n int32 token ids ON THE DEVICE (so a sampled id
 * never leaves the GPU between decode steps); d_out: n x cols F32. Token ids outside
 * [0, vocab) write a row of zeros (the host checks ids before uploading them). */
GBX_API int gbx_embed(int type, const void* d_table, int vocab, int cols,
                      const int32_t* d_tokens, int n, float* d_out, void* stream);

/* Dequantizing matrix-vector products (decode; also any small n):
 * d_y[t, r] = sum_c W[r, c] * d_x[t, c] for t < n, r < rows.
 * d_w: [rows x cols] of `type` (any GBX_TYPE_*); d_x: n x cols F32; d_y: n x rows F32 (must not
 * alias d_x). Every weight byte is read once per 8 input rows, so use it for n <= 8 or so and the
 * dequantize + cuBLAS GEMM path (below) for prefill. Accumulates in F32. */
GBX_API int gbx_matvec(int type, const void* d_w, int rows, int cols,
                       const float* d_x, int n, float* d_y, void* stream);

/* Dequantizes rows [row0, row0 + rows) of a [* x cols] weight of `type` into d_out, row-major
 * rows x cols of out_type (GBX_TYPE_F32, GBX_TYPE_F16 or GBX_TYPE_BF16, round to nearest even).
 * For prefill, dequantize a tile of rows to BF16 (or F16) and multiply with cuBLAS:
 *   Y[n x R] (F32, row-major, row length R = the weight's rows) = X * W^T is, in cuBLAS's
 *   column-major terms, cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, m = tileRows, n = tokens,
 *   k = cols, &one, A = tile (BF16, lda = cols), B = Xbf16 (BF16, ldb = cols), &zero,
 *   C = Y + row0 (F32, ldc = R), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT).
 * (X to BF16 with gbx_convert_f32.) */
GBX_API int gbx_dequantize(int type, const void* d_w, int cols, int64_t row0, int rows,
                           int out_type, void* d_out, void* stream);

/* d_out[i] = (out_type) d_x[i] for i < count; out_type GBX_TYPE_F16 or GBX_TYPE_BF16 (nearest even)
 * or GBX_TYPE_F32 (a copy). */
GBX_API int gbx_convert_f32(const float* d_x, int64_t count, int out_type, void* d_out, void* stream);

/* ---- elementwise and norms ---------------------------------------------------------------- */

/* d_x[t, i] += d_bias[i] for t < n, i < dim. */
GBX_API int gbx_add_bias(float* d_x, const float* d_bias, int n, int dim, void* stream);

/* RMSNorm: out[r, i] = in[r, i] / sqrt(mean(in[r, :]^2) + eps) * gain[i], rows x dim.
 * d_in == d_out (in place) is allowed. Sum of squares in F32 with a tree reduction. */
GBX_API int gbx_rms_norm(const float* d_in, float* d_out, const float* d_gain, int rows, int dim,
                         float eps, void* stream);

/* Rotary embedding in place on n token rows of heads x head_dim (row length heads*head_dim);
 * token t is at position pos0 + t (or *d_pos0 + t). The first `dims` values of each head rotate
 * (dims even, <= head_dim) as dims/2 pairs with inverse frequencies d_freqs[dims/2] (F32, device,
 * any Llama-3 scaling already applied). neox = 0: pairs (2i, 2i+1) (GGML "normal", llama);
 * neox != 0: pairs (i, i + dims/2). theta = pos * freq and its sine/cosine in double, rounded to F32,
 * as CpuBackend does (long positions keep their accuracy). */
GBX_API int gbx_rope(float* d_x, int n, int heads, int head_dim, int pos0, const int32_t* d_pos0,
                     int neox, int dims, const float* d_freqs, void* stream);

/* gate[i] = silu(gate[i]) * up[i] for i < count. */
GBX_API int gbx_swiglu(float* d_gate, const float* d_up, int64_t count, void* stream);

/* x[i] += y[i] for i < count (residual add). */
GBX_API int gbx_add(float* d_x, const float* d_y, int64_t count, void* stream);

/* ---- KV cache and attention --------------------------------------------------------------- */

/* The KV cache of one layer is two F32 arrays d_kcache, d_vcache of [capacity x kv_dim], row p =
 * the keys (values) of position p, kv_dim = kv_heads * head_dim, head g at columns g*head_dim.
 * (The Java side, backend/cuda/CudaKV.java, makes one allocation per sequence holding every
 * layer's keys then values back to back; the CPU backend blocks its keys differently.) */

/* Writes n rows of d_k, d_v (n x kv_dim each) into positions pos0..pos0+n-1 (or *d_pos0..).
 * With a host pos0, pos0 + n > capacity returns cudaErrorInvalidValue; with d_pos0 rows that fall
 * outside the cache are dropped (the host must keep the position in range). */
GBX_API int gbx_store_kv(float* d_kcache, float* d_vcache, int capacity, int kv_dim,
                         const float* d_k, const float* d_v, int n, int pos0, const int32_t* d_pos0,
                         void* stream);

/* Bytes of scratch gbx_attention needs for these sizes (0 when n > 1). For a graph captured with
 * d_pos0, pass max_len = capacity. */
GBX_API int gbx_attention_workspace_bytes(int n, int heads, int head_dim, int max_len, size_t* h_bytes);

/* Causal attention (Backend.attention): for query rows t < n at positions pos0 + t (or *d_pos0 + t),
 * head h (kv head h / (heads / kv_heads)), over cache positions 0 .. pos0 + t:
 *   out[t, h, :] = softmax_p(scale * q[t, h, :] . K[p, g, :]) . V[p, g, :].
 * d_q: n x heads*head_dim; d_out: n x heads*head_dim (must not alias d_q). head_dim <= 256,
 * heads % kv_heads == 0. n == 1 uses flash-decoding (the positions split over blocks, then one
 * combine pass; d_workspace of gbx_attention_workspace_bytes(1, heads, head_dim, max_len) bytes,
 * max_len >= pos0 + 1, and with d_pos0 the grid covers max_len positions). n > 1 uses a tiled
 * causal kernel (queries in tiles of 16, keys in tiles of 32 through shared memory, online
 * softmax); it needs no workspace and ignores max_len (pass 0 / NULL). */
GBX_API int gbx_attention(const float* d_kcache, const float* d_vcache, int capacity, int kv_dim,
                          const float* d_q, int n, int pos0, const int32_t* d_pos0,
                          int heads, int kv_heads, int head_dim, float scale,
                          void* d_workspace, size_t workspace_bytes, int max_len,
                          float* d_out, void* stream);

/* ---- sampling on the device --------------------------------------------------------------- */

/* *d_token = argmax_i d_logits[i] over i < n (lowest index on ties; NaN never wins). */
GBX_API int gbx_argmax(const float* d_logits, int n, int32_t* d_token, void* stream);

/* Samples one token as sample/Sampler.java orders the cuts (its distribution, not its random
 * numbers): top_k largest logits (top_k <= 0 or >= n: off; ties at the k-th value all kept), then
 * top_p (the smallest most-likely set of the survivors whose probability reaches top_p, normalized
 * over the top-k survivors; 1 = off), then min_p (drop logits below max + ln(min_p); 0 = off), then a
 * draw from softmax(logit / temperature) over what is left, by the Gumbel-max trick: the survivor with
 * the largest logit/T - ln(-ln(u_i)) wins, u_i = ((h >> 40) + 0.5) / 2^24 and
 * h = mix64(seed ^ mix64(counter << 32 | i)) (one splitmix64 step: add 0x9E3779B97F4A7C15, then its finalizer; sample/TokenChoice.java draws the
 * same numbers on the CPU). The seed (*d_seed) and the counter (*d_counter) are read from device
 * memory, so a captured graph replays with a new request's seed and step; *d_counter is then
 * incremented. temperature <= 0 (or NaN) is argmax (lowest index on ties) and leaves *d_counter as it
 * is. When d_logprob is not NULL it receives log softmax(d_logits)[token] over the raw logits.
 * Repetition/presence/frequency penalties are not applied here (apply them to the logits first, or
 * sample on the host). n < 2^24. One block of 1024 threads: about 8 passes over the logits with top-k
 * on; top-p with more than 4096 candidates above the other cuts (top-k off, min-p off) falls back to
 * 32 passes. */
GBX_API int gbx_sample(const float* d_logits, int n, float temperature, int top_k, float top_p, float min_p,
                       const uint64_t* d_seed, int32_t* d_counter, int32_t* d_token, float* d_logprob, void* stream);

/* ---- profiling ---------------------------------------------------------------------------- */

/* CUDA events for timing work on a stream by the GPU's clock: create (timing enabled) into
 * *h_event, record on `stream`, and elapsed milliseconds from `start` to `end` (waits for `end`). */
GBX_API int gbx_event_create(void** h_event);
GBX_API int gbx_event_destroy(void* event);
GBX_API int gbx_event_record(void* event, void* stream);
GBX_API int gbx_event_elapsed_ms(void* start, void* end, float* h_ms);

/* NVTX ranges on the calling thread (Nsight Systems shows them); cost one pointer check with no
 * tool attached, and work without a GPU. */
GBX_API void gbx_nvtx_push(const char* name);
GBX_API void gbx_nvtx_pop(void);

#ifdef __cplusplus
}
#endif

#endif /* GEARBOX_CUDA_H */
