// Token choice on the device, so a decode step returns only the id: argmax, and top-k / top-p /
// min-p / temperature sampling by the Gumbel-max trick (argmax of logit/T + Gumbel noise is an exact
// sample of softmax(logit/T)) over the survivors of the cuts, each cut a threshold on the logits.
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

// The chosen token's log-probability under softmax of the raw logits (what the CPU Sampler reports,
// and what escalation reads as confidence); `mx` is the largest logit. Every thread must call it.
__device__ void write_logprob(const float* __restrict__ logits, int n, int best, float mx, float* scratch,
                              float* __restrict__ logprob) {
    if (logprob == nullptr) return;  // uniform across the block: no thread waits at a barrier alone
    float z = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float l = logits[i];
        if (!isnan(l)) z += __expf(l - mx);
    }
    z = block_sum(z, scratch);
    if (threadIdx.x == 0) *logprob = logits[best] - mx - logf(z);
}

__global__ void __launch_bounds__(kSampleThreads)
argmax_kernel(const float* __restrict__ logits, int n, int32_t* __restrict__ token, float* __restrict__ logprob) {
    __shared__ float scratch[32];
    __shared__ int s_best;
    float bv = -INFINITY;
    int bi = -1;
    for (int i = threadIdx.x; i < n; i += blockDim.x) better(bv, bi, logits[i], i);
    const int best = block_argmax(bv, bi);
    if (threadIdx.x == 0) {
        *token = best;
        s_best = best;
    }
    __syncthreads();
    write_logprob(logits, n, s_best, logits[s_best], scratch, logprob);
}

// Key of the k-th largest logit by a 4-pass, 8-bit radix select (every thread gets it).
__device__ uint32_t kth_largest_key(const float* __restrict__ logits, int n, int k, unsigned* hist) {
    __shared__ uint32_t s_prefix;
    __shared__ int s_remaining;
    uint32_t prefix = 0, mask = 0;
    int remaining = k;
    const int lane = threadIdx.x & 31;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const uint32_t key = order_key(logits[i]);
            if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
        }
        __syncthreads();
        if (threadIdx.x < 32) {
            // Lane L holds bins 255-8L down to 248-8L; an inclusive scan over lanes counts, from the
            // top, everything down to a lane's lowest bin; the first lane to reach `remaining` walks its 8.
            int mine = 0;
#pragma unroll
            for (int j = 0; j < 8; j++) mine += (int) hist[255 - 8 * lane - j];
            int cum = mine;
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                const int up = __shfl_up_sync(0xffffffffu, cum, o);
                if (lane >= o) cum += up;
            }
            const unsigned hit = __ballot_sync(0xffffffffu, cum >= remaining);
            const int first = hit ? __ffs(hit) - 1 : 31;
            if (lane == first) {
                int above = cum - mine;  // counted in higher bins
                int bin = 248 - 8 * lane;
                for (int j = 0; j < 8; j++) {
                    const int b = 255 - 8 * lane - j;
                    if (above + (int) hist[b] >= remaining) {
                        bin = b;
                        break;
                    }
                    above += (int) hist[b];
                }
                s_prefix = prefix | ((uint32_t) bin << shift);
                s_remaining = remaining - above;
            }
        }
        __syncthreads();
        prefix = s_prefix;
        remaining = s_remaining;
        mask |= 255u << shift;
        __syncthreads();
    }
    return prefix;
}

constexpr int kCompact = 4096;  // candidates kept in shared memory for top-p

// Sampling as the CPU Sampler orders it: top-k, then top-p (normalized over the top-k survivors),
// then min-p (floor max + ln(min_p) on the raw logits), then temperature and the draw. Every cut
// keeps a set {key >= cut}, so the survivors are one threshold; the draw is Gumbel-max over them.
__global__ void __launch_bounds__(kSampleThreads)
sample_kernel(const float* __restrict__ logits, int n, float inv_temp, int top_k, float top_p, float min_p,
              const uint64_t* __restrict__ seed_at, int32_t* __restrict__ counter, int32_t* __restrict__ token,
              float* __restrict__ logprob) {
    __shared__ float scratch[32];
    __shared__ unsigned hist[256];
    __shared__ float c_logit[kCompact];
    __shared__ int c_index[kCompact];
    __shared__ int c_count;
    __shared__ int s_best;
    const uint32_t step = (uint32_t) *counter;
    const uint64_t seed = *seed_at;

    float mx = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, logits[i]);  // NaN ignored
    mx = warp_max(mx);
    __syncthreads();
    if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = mx;
    __syncthreads();
    mx = -INFINITY;
    for (int w = 0; w < (int) (blockDim.x >> 5); w++) mx = fmaxf(mx, scratch[w]);

    const uint32_t cut_k = (top_k > 0 && top_k < n) ? kth_largest_key(logits, n, top_k, hist) : 0u;
    const uint32_t cut_m = min_p > 0.0f ? order_key(mx + logf(min_p)) : 0u;
    const uint32_t low = max(cut_k, cut_m);
    uint32_t cut = low;
    bool compacted = false;  // survivors (a superset of) in c_logit/c_index[0..c_count)

    if (top_p < 1.0f && isfinite(mx)) {
        // Mass normalized over the top-k survivors (all tokens when top-k is off).
        float z = 0.0f, in_low = 0.0f, cnt = 0.0f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const float l = logits[i];
            const uint32_t key = order_key(l);
            if (key >= cut_k && key != 0u) z += __expf(l - mx);
            if (key >= low && key != 0u) {
                in_low += __expf(l - mx);
                cnt += 1.0f;
            }
        }
        z = block_sum(z, scratch);
        in_low = block_sum(in_low, scratch);
        cnt = block_sum(cnt, scratch);
        const float need = top_p * z;
        // If even every candidate above `low` does not reach p, top-p cuts nothing further.
        if (in_low >= need && cnt <= (float) kCompact) {
            if (threadIdx.x == 0) c_count = 0;
            __syncthreads();
            for (int i = threadIdx.x; i < n; i += blockDim.x) {
                const float l = logits[i];
                const uint32_t key = order_key(l);
                if (key >= low && key != 0u) {
                    const int at = atomicAdd(&c_count, 1);
                    c_logit[at] = l;
                    c_index[at] = i;
                }
            }
            __syncthreads();
            const int m = c_count;
            compacted = true;
            // Largest cut whose mass still reaches p: the smallest most-likely set that does.
            uint32_t t = 0;
            for (int bit = 31; bit >= 0; bit--) {
                const uint32_t cand = t | (1u << bit);
                float mass = 0.0f;
                for (int j = threadIdx.x; j < m; j += blockDim.x)
                    if (order_key(c_logit[j]) >= cand) mass += __expf(c_logit[j] - mx);
                mass = block_sum(mass, scratch);
                if (mass >= need && mass > 0.0f) t = cand;
            }
            cut = max(low, t);
        } else if (in_low >= need) {
            uint32_t t = 0;  // too many candidates for shared memory: bisect over the logits (slow path)
            for (int bit = 31; bit >= 0; bit--) {
                const uint32_t cand = t | (1u << bit);
                float mass = 0.0f;
                for (int i = threadIdx.x; i < n; i += blockDim.x) {
                    const uint32_t key = order_key(logits[i]);
                    if (key >= cand && key >= low && key != 0u) mass += __expf(logits[i] - mx);
                }
                mass = block_sum(mass, scratch);
                if (mass >= need && mass > 0.0f) t = cand;
            }
            cut = max(low, t);
        }
    }

    float bv = -INFINITY;
    int bi = -1;
    const int m = compacted ? c_count : n;
    for (int j = threadIdx.x; j < m; j += blockDim.x) {
        const float x = compacted ? c_logit[j] : logits[j];
        const int i = compacted ? c_index[j] : j;
        if (isnan(x) || order_key(x) < cut) continue;
        const uint64_t r = mix64(seed ^ mix64(((uint64_t) step << 32) | (uint32_t) i));
        const float u = ((float) (r >> 40) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
        better(bv, bi, x * inv_temp - logf(-logf(u)), i);
    }
    const int best = block_argmax(bv, bi);
    if (threadIdx.x == 0) {
        *token = best;
        s_best = best;
    }
    __syncthreads();  // every thread has read *counter long before this
    if (threadIdx.x == 0) *counter = (int32_t) (step + 1);
    write_logprob(logits, n, s_best, mx, scratch, logprob);
}

}  // namespace gbx

using namespace gbx;

extern "C" int gbx_argmax(const float* d_logits, int n, int32_t* d_token, void* stream) {
    GBX_CHECK_ARG(d_logits != nullptr && d_token != nullptr && n > 0);
    argmax_kernel<<<1, kSampleThreads, 0, GBX_STREAM(stream)>>>(d_logits, n, d_token, nullptr);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_sample(const float* d_logits, int n, float temperature, int top_k, float top_p, float min_p,
                          const uint64_t* d_seed, int32_t* d_counter, int32_t* d_token, float* d_logprob,
                          void* stream) {
    GBX_CHECK_ARG(d_logits != nullptr && d_token != nullptr && d_counter != nullptr && d_seed != nullptr && n > 0 &&
                  n < (1 << 24));
    GBX_CHECK_ARG(top_p >= 0.0f && top_p <= 1.0f && min_p >= 0.0f && min_p <= 1.0f);
    cudaStream_t s = GBX_STREAM(stream);
    if (!(temperature > 0.0f)) {
        argmax_kernel<<<1, kSampleThreads, 0, s>>>(d_logits, n, d_token, d_logprob);
        GBX_RETURN_LAUNCH();
    }
    sample_kernel<<<1, kSampleThreads, 0, s>>>(d_logits, n, 1.0f / temperature, top_k, top_p, min_p, d_seed, d_counter,
                                                d_token, d_logprob);
    GBX_RETURN_LAUNCH();
}
