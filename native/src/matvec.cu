// Weight kernels: dequantizing matrix-vector products (decode), embedding lookup, and dequantizing
// whole rows to F32/F16/BF16 (prefill feeds those to cuBLAS).
#include <type_traits>

#include "quant.cuh"

namespace gbx {

constexpr int kMatvecWarps = 4;  // rows per block: one warp per row
constexpr int kMaxVec = 8;       // input rows sharing one read of the weights

// One warp per weight row; lanes walk the row's 8-value parts so that a warp's 32 parts lie in
// consecutive blocks, decode each part once and use it for up to NV input rows.
template <class T, int NV>
__global__ void __launch_bounds__(kMatvecWarps * 32)
matvec_kernel(const uint8_t* __restrict__ w, size_t row_bytes, int rows, int cols,
              const float* __restrict__ x, int n, float* __restrict__ y) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * kMatvecWarps + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int t0 = blockIdx.y * NV;
    const int nv = min(NV, n - t0);
    const uint8_t* wr = w + (size_t) row * row_bytes;
    const int parts = cols / T::QK * T::P;
    float acc[NV];
#pragma unroll
    for (int v = 0; v < NV; v++) acc[v] = 0.0f;
    // Unrolled so that several parts' loads are in flight per warp before the first use: decode is
    // bound by memory latency x bytes in flight, not by arithmetic.
#pragma unroll(NV == 1 ? 4 : 1)
    for (int idx = lane; idx < parts; idx += 32) {
        const int blk = idx / T::P, part = idx - blk * T::P;
        float wv[8];
        T::dequant8(wr + (size_t) blk * T::BYTES, part, wv);
        const int col = blk * T::QK + part * 8;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            if (v < nv) {
                const float* xp = x + (size_t) (t0 + v) * cols + col;
                float s = 0.0f;
#pragma unroll
                for (int i = 0; i < 8; i++) s = fmaf(wv[i], __ldg(xp + i), s);
                acc[v] += s;
            }
        }
    }
#pragma unroll
    for (int v = 0; v < NV; v++) {
        const float s = warp_sum(acc[v]);
        if (lane == 0 && v < nv) y[(size_t) (t0 + v) * rows + row] = s;
    }
}

// Plain types whose rows are not a multiple of 8 values: one value at a time.
__global__ void matvec_plain_kernel(int type, const uint8_t* __restrict__ w, size_t row_bytes, int rows,
                                    int cols, const float* __restrict__ x, int n, float* __restrict__ y) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * kMatvecWarps + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int t = blockIdx.y;
    const uint8_t* wr = w + (size_t) row * row_bytes;
    const float* xr = x + (size_t) t * cols;
    float acc = 0.0f;
    for (int c = lane; c < cols; c += 32) acc = fmaf(plain_at(type, wr, c), __ldg(xr + c), acc);
    acc = warp_sum(acc);
    if (lane == 0) y[(size_t) t * rows + row] = acc;
}

// Writes dequantized rows: element (r, c) of `rows` rows x cols, from weight row src_row0 + r;
// with `tokens`, weight row tokens[r] instead (out of range: zeros).
template <class T, class Out>
__global__ void dequant_rows_kernel(const uint8_t* __restrict__ w, size_t row_bytes, int64_t vocab, int cols,
                                    int64_t src_row0, const int32_t* __restrict__ tokens, int64_t rows,
                                    Out* __restrict__ out) {
    const int64_t parts_per_row = cols / T::QK * T::P;
    const int64_t total = rows * parts_per_row;
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total; i += (int64_t) gridDim.x * blockDim.x) {
        const int64_t r = i / parts_per_row;
        const int p = (int) (i - r * parts_per_row);
        const int blk = p / T::P, part = p - blk * T::P;
        const int64_t src = tokens ? (int64_t) tokens[r] : src_row0 + r;
        Out* o = out + r * cols + (int64_t) blk * T::QK + part * 8;
        float wv[8];
        if (src < 0 || src >= vocab) {
#pragma unroll
            for (int k = 0; k < 8; k++) wv[k] = 0.0f;
        } else {
            T::dequant8(w + src * row_bytes + (size_t) blk * T::BYTES, part, wv);
        }
#pragma unroll
        for (int k = 0; k < 8; k++) {
            if constexpr (sizeof(Out) == 4) o[k] = wv[k];
            else if constexpr (std::is_same<Out, __half>::value) o[k] = __float2half_rn(wv[k]);
            else o[k] = __float2bfloat16_rn(wv[k]);
        }
    }
}

template <class Out>
__global__ void dequant_plain_kernel(int type, const uint8_t* __restrict__ w, size_t row_bytes, int64_t vocab,
                                     int cols, int64_t src_row0, const int32_t* __restrict__ tokens,
                                     int64_t rows, Out* __restrict__ out) {
    const int64_t total = rows * cols;
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total; i += (int64_t) gridDim.x * blockDim.x) {
        const int64_t r = i / cols, c = i - r * cols;
        const int64_t src = tokens ? (int64_t) tokens[r] : src_row0 + r;
        const float v = (src < 0 || src >= vocab) ? 0.0f : plain_at(type, w + src * row_bytes, c);
        if constexpr (sizeof(Out) == 4) out[i] = v;
        else if constexpr (std::is_same<Out, __half>::value) out[i] = __float2half_rn(v);
        else out[i] = __float2bfloat16_rn(v);
    }
}

// Common host-side checks of a weight of `type` with rows of `cols` values at d_w.
static bool weight_ok(int type, const void* d_w, int64_t cols, size_t& row_bytes) {
    int qk, bytes;
    type_geometry(type, qk, bytes);
    if (qk == 0 || d_w == nullptr || cols <= 0 || cols % qk != 0) return false;
    if (!aligned(d_w, type == GBX_TYPE_F32 ? 4 : 2)) return false;
    row_bytes = (size_t) (cols / qk) * (size_t) bytes;
    return true;
}

static bool plain(int type) { return type == GBX_TYPE_F32 || type == GBX_TYPE_F16 || type == GBX_TYPE_BF16; }

template <class Out>
static int launch_dequant(int type, const void* d_w, size_t row_bytes, int64_t vocab, int cols, int64_t row0,
                          const int32_t* tokens, int64_t rows, Out* out, cudaStream_t s) {
    const int threads = 256;
    if (plain(type) && cols % 8 != 0) {
        dequant_plain_kernel<Out><<<grid_for(rows * cols, threads), threads, 0, s>>>(
            type, (const uint8_t*) d_w, row_bytes, vocab, cols, row0, tokens, rows, out);
    } else {
        dispatch_type(type, [&](auto t) {
            using T = decltype(t);
            const int64_t work = rows * (cols / T::QK * T::P);
            dequant_rows_kernel<T, Out><<<grid_for(work, threads), threads, 0, s>>>(
                (const uint8_t*) d_w, row_bytes, vocab, cols, row0, tokens, rows, out);
        });
    }
    GBX_RETURN_LAUNCH();
}

}  // namespace gbx

using namespace gbx;

extern "C" int gbx_row_bytes(int type, int64_t cols, size_t* h_bytes) {
    int qk, bytes;
    type_geometry(type, qk, bytes);
    GBX_CHECK_ARG(h_bytes != nullptr && qk != 0 && cols >= 0 && cols % qk == 0);
    *h_bytes = (size_t) (cols / qk) * (size_t) bytes;
    return 0;
}

extern "C" int gbx_matvec(int type, const void* d_w, int rows, int cols, const float* d_x, int n, float* d_y,
                          void* stream) {
    size_t row_bytes;
    GBX_CHECK_ARG(weight_ok(type, d_w, cols, row_bytes));
    GBX_CHECK_ARG(rows > 0 && n > 0 && n <= 65535 * kMaxVec && d_x != nullptr && d_y != nullptr);
    cudaStream_t s = GBX_STREAM(stream);
    const unsigned gx = (unsigned) ((rows + kMatvecWarps - 1) / kMatvecWarps);
    const dim3 block(kMatvecWarps * 32);
    if (plain(type) && cols % 8 != 0) {
        GBX_CHECK_ARG(n <= 65535);
        matvec_plain_kernel<<<dim3(gx, (unsigned) n), block, 0, s>>>(type, (const uint8_t*) d_w, row_bytes, rows,
                                                                     cols, d_x, n, d_y);
        GBX_RETURN_LAUNCH();
    }
    dispatch_type(type, [&](auto t) {
        using T = decltype(t);
        if (n == 1) {
            matvec_kernel<T, 1><<<dim3(gx, 1), block, 0, s>>>((const uint8_t*) d_w, row_bytes, rows, cols, d_x, n, d_y);
        } else {
            const unsigned gy = (unsigned) ((n + kMaxVec - 1) / kMaxVec);
            matvec_kernel<T, kMaxVec><<<dim3(gx, gy), block, 0, s>>>((const uint8_t*) d_w, row_bytes, rows, cols, d_x,
                                                                     n, d_y);
        }
    });
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_embed(int type, const void* d_table, int vocab, int cols, const int32_t* d_tokens, int n,
                         float* d_out, void* stream) {
    size_t row_bytes;
    GBX_CHECK_ARG(weight_ok(type, d_table, cols, row_bytes));
    GBX_CHECK_ARG(vocab > 0 && n > 0 && d_tokens != nullptr && d_out != nullptr);
    return launch_dequant<float>(type, d_table, row_bytes, vocab, cols, 0, d_tokens, n, d_out, GBX_STREAM(stream));
}

extern "C" int gbx_dequantize(int type, const void* d_w, int cols, int64_t row0, int rows, int out_type, void* d_out,
                              void* stream) {
    size_t row_bytes;
    GBX_CHECK_ARG(weight_ok(type, d_w, cols, row_bytes));
    GBX_CHECK_ARG(row0 >= 0 && rows > 0 && d_out != nullptr);
    const int64_t vocab = row0 + rows;  // every requested row is in range
    cudaStream_t s = GBX_STREAM(stream);
    switch (out_type) {
        case GBX_TYPE_F32:
            GBX_CHECK_ARG(aligned(d_out, 4));
            return launch_dequant<float>(type, d_w, row_bytes, vocab, cols, row0, nullptr, rows, (float*) d_out, s);
        case GBX_TYPE_F16:
            GBX_CHECK_ARG(aligned(d_out, 2));
            return launch_dequant<__half>(type, d_w, row_bytes, vocab, cols, row0, nullptr, rows, (__half*) d_out, s);
        case GBX_TYPE_BF16:
            GBX_CHECK_ARG(aligned(d_out, 2));
            return launch_dequant<__nv_bfloat16>(type, d_w, row_bytes, vocab, cols, row0, nullptr, rows,
                                                 (__nv_bfloat16*) d_out, s);
        default:
            return (int) cudaErrorInvalidValue;
    }
}
