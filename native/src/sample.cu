// Token choice on the device, so a decode step returns only the id: argmax, and temperature /
// top-k sampling by the Gumbel-max trick (argmax of logit/T + Gumbel noise is an exact sample of
// softmax(logit/T)), with the top-k cut found by bisecting on the bits of the k-th largest logit.
#include <math.h>

#include "common.cuh"

namespace gbx {

constexpr int kSampleThreads = 1024;

// Larger value wins; on equal values the lower index; NaN never wins (comparisons are false).
__device__ __forceinline__ void better(float& bv, int& bi, float v, int i) {
    if (v > bv || (v == bv && (unsigned) i < (unsigned) bi)) {
        bv = v;
        bi = i;
    }
}

// Block-wide argmax of (bv, bi); thread 0 returns the winner.
__device__ int block_argmax(float bv, int bi) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        better(bv, bi, ov, oi);
    }
    if (lane == 0) {
        sv[warp] = bv;
        si[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
        bv = lane < warps ? sv[lane] : -INFINITY;
        bi = lane < warps ? si[lane] : -1;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            better(bv, bi, ov, oi);
        }
    }
    return bi < 0 ? 0 : bi;  // all NaN: token 0
}

// Order-preserving map of a float to an unsigned key (NaN maps to 0, below every number).
__device__ __forceinline__ uint32_t order_key(float f) {
    if (isnan(f)) return 0u;
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

__global__ void __launch_bounds__(kSampleThreads)
argmax_kernel(const float* __restrict__ logits, int n, int32_t* __restrict__ token) {
    float bv = -INFINITY;
    int bi = -1;
    for (int i = threadIdx.x; i < n; i += blockDim.x) better(bv, bi, logits[i], i);
    const int best = block_argmax(bv, bi);
    if (threadIdx.x == 0) *token = best;
}

__global__ void __launch_bounds__(kSampleThreads)
sample_kernel(const float* __restrict__ logits, int n, float inv_temp, int top_k, uint64_t seed,
              int32_t* __restrict__ counter, int32_t* __restrict__ token) {
    __shared__ float scratch[32];
    const uint32_t step = (uint32_t) *counter;
    uint32_t cut = 0;  // keep logits whose key >= cut
    if (top_k > 0 && top_k < n) {
        // Largest cut with at least top_k keys >= cut: exactly the key of the k-th largest logit.
        for (int bit = 31; bit >= 0; bit--) {
            const uint32_t cand = cut | (1u << bit);
            float c = 0.0f;
            for (int i = threadIdx.x; i < n; i += blockDim.x) c += order_key(logits[i]) >= cand ? 1.0f : 0.0f;
            c = block_sum(c, scratch);  // counts < 2^24 are exact in F32
            if (c >= (float) top_k) cut = cand;
        }
    }
    float bv = -INFINITY;
    int bi = -1;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float x = logits[i];
        if (order_key(x) < cut || isnan(x)) continue;
        const uint64_t r = mix64(seed ^ mix64(((uint64_t) step << 32) | (uint32_t) i));
        const float u = ((float) (r >> 40) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
        better(bv, bi, x * inv_temp - logf(-logf(u)), i);
    }
    const int best = block_argmax(bv, bi);
    if (threadIdx.x == 0) {
        *token = best;
        *counter = (int32_t) (step + 1);
    }
}

}  // namespace gbx

using namespace gbx;

extern "C" int gbx_argmax(const float* d_logits, int n, int32_t* d_token, void* stream) {
    GBX_CHECK_ARG(d_logits != nullptr && d_token != nullptr && n > 0);
    argmax_kernel<<<1, kSampleThreads, 0, GBX_STREAM(stream)>>>(d_logits, n, d_token);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_sample(const float* d_logits, int n, float temperature, int top_k, uint64_t seed,
                          int32_t* d_counter, int32_t* d_token, void* stream) {
    GBX_CHECK_ARG(d_logits != nullptr && d_token != nullptr && d_counter != nullptr && n > 0 && n < (1 << 24));
    cudaStream_t s = GBX_STREAM(stream);
    if (!(temperature > 0.0f)) {
        argmax_kernel<<<1, kSampleThreads, 0, s>>>(d_logits, n, d_token);
        GBX_RETURN_LAUNCH();
    }
    sample_kernel<<<1, kSampleThreads, 0, s>>>(d_logits, n, 1.0f / temperature, top_k, seed, d_counter, d_token);
    GBX_RETURN_LAUNCH();
}
