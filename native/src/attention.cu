// KV cache writes and causal attention: flash-decoding for one query row (positions split over
// blocks, then a combine pass) and a tiled kernel with online softmax for several query rows.
#include <math.h>

#include "common.cuh"

namespace gbx {

constexpr int kMaxHeadDim = 256;
constexpr int kDims = kMaxHeadDim / 32;  // head values per lane
constexpr int kSplit = 256;              // positions per flash-decoding block
constexpr int kDecodeWarps = 4;
constexpr int kTileQ = 16;               // query rows per prefill block (4 per warp)
constexpr int kTileK = 32;               // keys per shared-memory tile (one per lane)
constexpr int kPrefillWarps = 4;
constexpr int kQPerWarp = kTileQ / kPrefillWarps;

__device__ __forceinline__ int current_pos(int pos0, const int32_t* d_pos0) { return d_pos0 ? *d_pos0 : pos0; }

__global__ void store_kv_kernel(float* __restrict__ kc, float* __restrict__ vc, int capacity, int kv_dim,
                                const float* __restrict__ k, const float* __restrict__ v, int n, int pos0,
                                const int32_t* __restrict__ d_pos0) {
    const int base = current_pos(pos0, d_pos0);
    const int64_t total = (int64_t) n * kv_dim;
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total; i += (int64_t) gridDim.x * blockDim.x) {
        const int t = (int) (i / kv_dim);
        const int64_t p = (int64_t) base + t;
        if (p < 0 || p >= capacity) continue;
        const int64_t at = p * kv_dim + (i - (int64_t) t * kv_dim);
        kc[at] = k[i];
        vc[at] = v[i];
    }
}

// Flash-decoding, pass 1: block (head h, split s) covers positions [s*kSplit, (s+1)*kSplit) of the
// len = pos+1 visible ones. Each warp takes every kDecodeWarps-th position, the whole warp
// computing one dot product (coalesced reads of the K and V rows), with an online softmax; the
// warps then merge, and the block writes (max, sum, unnormalized output) to the workspace.
__global__ void __launch_bounds__(kDecodeWarps * 32)
decode_split_kernel(const float* __restrict__ kc, const float* __restrict__ vc, int capacity, int kv_dim,
                    const float* __restrict__ q, int pos0, const int32_t* __restrict__ d_pos0, int heads,
                    int group, int hd, float scale, int nsplit, float* __restrict__ ws_ml, float* __restrict__ ws_acc) {
    __shared__ float sm_m[kDecodeWarps], sm_l[kDecodeWarps];
    __shared__ float sm_acc[kDecodeWarps][kMaxHeadDim];
    const int h = blockIdx.x, s = blockIdx.y;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int len = min(current_pos(pos0, d_pos0) + 1, capacity);
    const int start = s * kSplit, end = min(len, start + kSplit);
    const float* qh = q + (size_t) h * hd;
    const size_t koff = (size_t) (h / group) * hd;

    float qr[kDims], acc[kDims];
#pragma unroll
    for (int i = 0; i < kDims; i++) {
        const int d = lane + 32 * i;
        qr[i] = d < hd ? qh[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int p = start + warp; p < end; p += kDecodeWarps) {
        const float* kr = kc + (size_t) p * kv_dim + koff;
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < kDims; i++) {
            const int d = lane + 32 * i;
            if (d < hd) dot = fmaf(qr[i], kr[d], dot);
        }
        const float sc = warp_sum(dot) * scale;
        const float mn = fmaxf(m, sc);
        const float corr = __expf(m - mn);  // m = -inf at first: 0
        const float pw = __expf(sc - mn);
        l = l * corr + pw;
        const float* vr = vc + (size_t) p * kv_dim + koff;
#pragma unroll
        for (int i = 0; i < kDims; i++) {
            const int d = lane + 32 * i;
            acc[i] = acc[i] * corr + (d < hd ? pw * vr[d] : 0.0f);
        }
        m = mn;
    }
    if (lane == 0) {
        sm_m[warp] = m;
        sm_l[warp] = l;
    }
#pragma unroll
    for (int i = 0; i < kDims; i++) {
        const int d = lane + 32 * i;
        if (d < hd) sm_acc[warp][d] = acc[i];
    }
    __syncthreads();
    float bm = -INFINITY;
#pragma unroll
    for (int w = 0; w < kDecodeWarps; w++) bm = fmaxf(bm, sm_m[w]);
    float f[kDecodeWarps], bl = 0.0f;
#pragma unroll
    for (int w = 0; w < kDecodeWarps; w++) {
        f[w] = bm == -INFINITY ? 0.0f : __expf(sm_m[w] - bm);
        bl += sm_l[w] * f[w];
    }
    const size_t slot = (size_t) h * nsplit + s;
    if (threadIdx.x == 0) {
        ws_ml[2 * slot] = bm;
        ws_ml[2 * slot + 1] = bl;
    }
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float a = 0.0f;
#pragma unroll
        for (int w = 0; w < kDecodeWarps; w++) a += sm_acc[w][d] * f[w];
        ws_acc[slot * hd + d] = a;
    }
}

// Flash-decoding, pass 2: one block per head merges the splits.
__global__ void decode_combine_kernel(const float* __restrict__ ws_ml, const float* __restrict__ ws_acc, int nsplit,
                                      int hd, float* __restrict__ out) {
    const int h = blockIdx.x;
    const float* ml = ws_ml + (size_t) h * nsplit * 2;
    float m = -INFINITY;
    for (int s = 0; s < nsplit; s++) m = fmaxf(m, ml[2 * s]);
    float l = 0.0f;
    for (int s = 0; s < nsplit; s++)
        if (ml[2 * s + 1] > 0.0f) l += ml[2 * s + 1] * __expf(ml[2 * s] - m);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < nsplit; s++)
            if (ml[2 * s + 1] > 0.0f) a += ws_acc[((size_t) h * nsplit + s) * hd + d] * __expf(ml[2 * s] - m);
        out[(size_t) h * hd + d] = a * inv;
    }
}

// Prefill: block (query tile, head). Queries of the tile in shared memory; keys and values stream
// through shared memory kTileK at a time; lane j scores key j for each of its warp's queries,
// then the warp folds the tile into its running softmax and output (lane owns dims lane + 32i).
__global__ void __launch_bounds__(kPrefillWarps * 32)
prefill_kernel(const float* __restrict__ kc, const float* __restrict__ vc, int capacity, int kv_dim,
               const float* __restrict__ q, int n, int pos0, const int32_t* __restrict__ d_pos0, int heads,
               int group, int hd, float scale, float* __restrict__ out) {
    extern __shared__ float smem[];
    float* qs = smem;                         // [kTileQ][hd]
    float* ks = qs + kTileQ * hd;             // [kTileK][hd + 1] (padded: lane j reads row j)
    float* vs = ks + kTileK * (hd + 1);       // [kTileK][hd]
    const int h = blockIdx.y, t0 = blockIdx.x * kTileQ;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int base = current_pos(pos0, d_pos0);
    const int tq = min(kTileQ, n - t0);
    const int kend = min(base + t0 + tq, capacity);  // keys 0 .. kend-1 are visible to some query
    const size_t koff = (size_t) (h / group) * hd;
    const size_t qstride = (size_t) heads * hd;

    for (int i = threadIdx.x; i < kTileQ * hd; i += blockDim.x) {
        const int r = i / hd, d = i - r * hd;
        qs[i] = r < tq ? q[(size_t) (t0 + r) * qstride + (size_t) h * hd + d] : 0.0f;
    }

    float m[kQPerWarp], l[kQPerWarp], acc[kQPerWarp][kDims];
#pragma unroll
    for (int r = 0; r < kQPerWarp; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int i = 0; i < kDims; i++) acc[r][i] = 0.0f;
    }

    for (int k0 = 0; k0 < kend; k0 += kTileK) {
        __syncthreads();  // the previous tile is no longer read (and qs is written, first time)
        for (int i = threadIdx.x; i < kTileK * hd; i += blockDim.x) {
            const int j = i / hd, d = i - j * hd;
            const int p = k0 + j;
            const bool in = p < kend;
            ks[j * (hd + 1) + d] = in ? kc[(size_t) p * kv_dim + koff + d] : 0.0f;
            vs[j * hd + d] = in ? vc[(size_t) p * kv_dim + koff + d] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < kQPerWarp; r++) {
            const int qi = warp * kQPerWarp + r;
            if (qi >= tq) continue;  // uniform per warp
            const int qpos = base + t0 + qi;
            const int p = k0 + lane;
            float sc = -INFINITY;
            if (p <= qpos && p < kend) {
                const float* qv = qs + qi * hd;
                const float* kv = ks + lane * (hd + 1);
                float dot = 0.0f;
                for (int d = 0; d < hd; d++) dot = fmaf(qv[d], kv[d], dot);
                sc = dot * scale;
            }
            const float tmax = warp_max(sc);
            if (tmax == -INFINITY) continue;  // every key of this tile is in this query's future
            const float mn = fmaxf(m[r], tmax);
            const float corr = __expf(m[r] - mn);
            const float pw = sc == -INFINITY ? 0.0f : __expf(sc - mn);
            l[r] = l[r] * corr + warp_sum(pw);
#pragma unroll
            for (int i = 0; i < kDims; i++) acc[r][i] *= corr;
            for (int j = 0; j < kTileK; j++) {
                const float pj = __shfl_sync(0xffffffffu, pw, j);
                if (pj == 0.0f) continue;  // uniform: every lane holds the same pj
                const float* vr = vs + j * hd;
#pragma unroll
                for (int i = 0; i < kDims; i++) {
                    const int d = lane + 32 * i;
                    if (d < hd) acc[r][i] = fmaf(pj, vr[d], acc[r][i]);
                }
            }
            m[r] = mn;
        }
    }
#pragma unroll
    for (int r = 0; r < kQPerWarp; r++) {
        const int qi = warp * kQPerWarp + r;
        if (qi >= tq) continue;
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        float* o = out + (size_t) (t0 + qi) * qstride + (size_t) h * hd;
#pragma unroll
        for (int i = 0; i < kDims; i++) {
            const int d = lane + 32 * i;
            if (d < hd) o[d] = acc[r][i] * inv;
        }
    }
}

static int nsplit_for(int max_len) { return (max_len + kSplit - 1) / kSplit; }

static size_t decode_ws_bytes(int heads, int hd, int max_len) {
    return (size_t) heads * (size_t) nsplit_for(max_len) * (size_t) (hd + 2) * sizeof(float);
}

static size_t prefill_smem(int hd) {
    return (size_t) (kTileQ * hd + kTileK * (hd + 1) + kTileK * hd) * sizeof(float);
}

}  // namespace gbx

using namespace gbx;

extern "C" int gbx_store_kv(float* d_kcache, float* d_vcache, int capacity, int kv_dim, const float* d_k,
                            const float* d_v, int n, int pos0, const int32_t* d_pos0, void* stream) {
    GBX_CHECK_ARG(d_kcache != nullptr && d_vcache != nullptr && d_k != nullptr && d_v != nullptr);
    GBX_CHECK_ARG(capacity > 0 && kv_dim > 0 && n > 0);
    if (d_pos0 == nullptr) GBX_CHECK_ARG(pos0 >= 0 && (int64_t) pos0 + n <= capacity);
    const int64_t total = (int64_t) n * kv_dim;
    store_kv_kernel<<<grid_for(total, 256), 256, 0, GBX_STREAM(stream)>>>(d_kcache, d_vcache, capacity, kv_dim, d_k,
                                                                          d_v, n, pos0, d_pos0);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_attention_workspace_bytes(int n, int heads, int head_dim, int max_len, size_t* h_bytes) {
    GBX_CHECK_ARG(h_bytes != nullptr && n > 0 && heads > 0 && head_dim > 0 && head_dim <= kMaxHeadDim && max_len >= 0);
    *h_bytes = n == 1 ? decode_ws_bytes(heads, head_dim, max_len > 0 ? max_len : 1) : 0;
    return 0;
}

extern "C" int gbx_attention(const float* d_kcache, const float* d_vcache, int capacity, int kv_dim, const float* d_q,
                             int n, int pos0, const int32_t* d_pos0, int heads, int kv_heads, int head_dim, float scale,
                             void* d_workspace, size_t workspace_bytes, int max_len, float* d_out, void* stream) {
    GBX_CHECK_ARG(d_kcache != nullptr && d_vcache != nullptr && d_q != nullptr && d_out != nullptr);
    GBX_CHECK_ARG(capacity > 0 && n > 0 && heads > 0 && kv_heads > 0 && heads % kv_heads == 0);
    GBX_CHECK_ARG(head_dim > 0 && head_dim <= kMaxHeadDim && (int64_t) kv_heads * head_dim <= kv_dim);
    if (d_pos0 == nullptr) GBX_CHECK_ARG(pos0 >= 0 && (int64_t) pos0 + n <= capacity);
    const int group = heads / kv_heads;
    cudaStream_t s = GBX_STREAM(stream);
    if (n == 1) {
        if (d_pos0 == nullptr && max_len < pos0 + 1) max_len = pos0 + 1;
        GBX_CHECK_ARG(max_len > 0 && max_len <= capacity);
        GBX_CHECK_ARG(d_workspace != nullptr && aligned(d_workspace, 4) &&
                      workspace_bytes >= decode_ws_bytes(heads, head_dim, max_len));
        const int nsplit = nsplit_for(max_len);
        GBX_CHECK_ARG(nsplit <= 65535);
        float* ws_ml = (float*) d_workspace;
        float* ws_acc = ws_ml + (size_t) heads * nsplit * 2;
        decode_split_kernel<<<dim3((unsigned) heads, (unsigned) nsplit), kDecodeWarps * 32, 0, s>>>(
            d_kcache, d_vcache, capacity, kv_dim, d_q, pos0, d_pos0, heads, group, head_dim, scale, nsplit, ws_ml,
            ws_acc);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return (int) e;
        decode_combine_kernel<<<(unsigned) heads, 128, 0, s>>>(ws_ml, ws_acc, nsplit, head_dim, d_out);
        GBX_RETURN_LAUNCH();
    }
    GBX_CHECK_ARG(heads <= 65535);
    const size_t smem = prefill_smem(head_dim);
    if (smem > 48 * 1024) {
        const cudaError_t e =
            cudaFuncSetAttribute(prefill_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int) smem);
        if (e != cudaSuccess) return (int) e;
    }
    const dim3 grid((unsigned) ((n + kTileQ - 1) / kTileQ), (unsigned) heads);
    prefill_kernel<<<grid, kPrefillWarps * 32, smem, s>>>(d_kcache, d_vcache, capacity, kv_dim, d_q, n, pos0, d_pos0,
                                                         heads, group, head_dim, scale, d_out);
    GBX_RETURN_LAUNCH();
}
