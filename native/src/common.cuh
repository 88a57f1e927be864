// Shared helpers of the Gearbox CUDA kernels: argument checks, launch-error returns, unaligned-safe
// half loads and warp/block reductions.
#pragma once

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

#include "gearbox_cuda.h"

#define GBX_CHECK_ARG(cond)                                  \
    do {                                                     \
        if (!(cond)) return (int) cudaErrorInvalidValue;     \
    } while (0)

// Every launch function ends with this: launch-configuration errors come back at once.
#define GBX_RETURN_LAUNCH() return (int) cudaGetLastError()

#define GBX_STREAM(s) ((cudaStream_t) (s))

namespace gbx {

constexpr int kWarp = 32;

// Quantized blocks are 18..210 bytes long, so a block's fields are at best 2-byte aligned: every
// read below is a byte or a 16-bit half at an even offset.
__device__ __forceinline__ uint32_t ld_u16(const uint8_t* p) {
    return (uint32_t) __ldg(reinterpret_cast<const unsigned short*>(p));
}

__device__ __forceinline__ float ld_f16(const uint8_t* p) {
    return __half2float(__ushort_as_half((unsigned short) ld_u16(p)));
}

__device__ __forceinline__ float ld_bf16(const uint8_t* p) {
    return __uint_as_float(ld_u16(p) << 16);
}

// 8 consecutive bytes starting at an even offset, as two 32-bit words (little-endian).
__device__ __forceinline__ void ld_8bytes(const uint8_t* p, uint32_t& lo, uint32_t& hi) {
    lo = ld_u16(p) | (ld_u16(p + 2) << 16);
    hi = ld_u16(p + 4) | (ld_u16(p + 6) << 16);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
// `scratch` holds 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

inline bool aligned(const void* p, int a) { return ((uintptr_t) p % (uintptr_t) a) == 0; }

inline unsigned grid_for(int64_t work, int per_block, int64_t cap = 65535LL * 16) {
    int64_t g = (work + per_block - 1) / per_block;
    if (g < 1) g = 1;
    if (g > cap) g = cap;
    return (unsigned) g;
}

}  // namespace gbx
