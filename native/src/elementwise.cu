// Elementwise kernels and norms: conversion, bias, RMSNorm, RoPE, SwiGLU, residual add.
#include "common.cuh"

namespace gbx {

constexpr int kThreads = 256;

__global__ void convert_f16_kernel(const float* __restrict__ x, int64_t count, __half* __restrict__ out) {
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < count; i += (int64_t) gridDim.x * blockDim.x)
        out[i] = __float2half_rn(x[i]);
}

__global__ void convert_bf16_kernel(const float* __restrict__ x, int64_t count, __nv_bfloat16* __restrict__ out) {
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < count; i += (int64_t) gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(x[i]);
}

__global__ void add_bias_kernel(float* __restrict__ x, const float* __restrict__ b, int64_t total, int dim) {
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < total; i += (int64_t) gridDim.x * blockDim.x)
        x[i] += b[i % dim];
}

// One block per row.
__global__ void __launch_bounds__(kThreads)
rms_norm_kernel(const float* in, float* out, const float* __restrict__ gain, int dim, float eps) {
    __shared__ float scratch[32];
    const float* r = in + (size_t) blockIdx.x * dim;
    float* o = out + (size_t) blockIdx.x * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss = fmaf(r[i], r[i], ss);
    ss = block_sum(ss, scratch);
    const float scale = rsqrtf(ss / (float) dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = r[i] * scale * gain[i];
}

// One thread per rotated pair. The angle is computed in double, as CpuBackend does, so long
// positions keep their accuracy.
__global__ void rope_kernel(float* __restrict__ x, int n, int heads, int head_dim, int pos0,
                            const int32_t* __restrict__ d_pos0, int neox, int half, const float* __restrict__ freqs) {
    const int64_t total = (int64_t) n * heads * half;
    const int base = d_pos0 ? *d_pos0 : pos0;
    for (int64_t k = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; k < total; k += (int64_t) gridDim.x * blockDim.x) {
        const int i = (int) (k % half);
        const int64_t th = k / half;  // t * heads + h
        const int t = (int) (th / heads);
        double sd, cd;
        sincos((double) (base + t) * (double) freqs[i], &sd, &cd);
        const float s = (float) sd, c = (float) cd;
        float* o = x + th * head_dim;
        const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        const float x0 = o[a], x1 = o[b];
        o[a] = x0 * c - x1 * s;
        o[b] = x0 * s + x1 * c;
    }
}

__global__ void swiglu_kernel(float* __restrict__ g, const float* __restrict__ u, int64_t count) {
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < count; i += (int64_t) gridDim.x * blockDim.x) {
        const float v = g[i];
        g[i] = v / (1.0f + expf(-v)) * u[i];
    }
}

__global__ void add_kernel(float* __restrict__ x, const float* __restrict__ y, int64_t count) {
    for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < count; i += (int64_t) gridDim.x * blockDim.x)
        x[i] += y[i];
}

}  // namespace gbx

using namespace gbx;

extern "C" int gbx_convert_f32(const float* d_x, int64_t count, int out_type, void* d_out, void* stream) {
    GBX_CHECK_ARG(d_x != nullptr && d_out != nullptr && count >= 0);
    if (count == 0) return 0;
    cudaStream_t s = GBX_STREAM(stream);
    const unsigned g = grid_for(count, kThreads);
    switch (out_type) {
        case GBX_TYPE_F32:
            return (int) cudaMemcpyAsync(d_out, d_x, (size_t) count * sizeof(float), cudaMemcpyDeviceToDevice, s);
        case GBX_TYPE_F16:
            GBX_CHECK_ARG(aligned(d_out, 2));
            convert_f16_kernel<<<g, kThreads, 0, s>>>(d_x, count, (__half*) d_out);
            GBX_RETURN_LAUNCH();
        case GBX_TYPE_BF16:
            GBX_CHECK_ARG(aligned(d_out, 2));
            convert_bf16_kernel<<<g, kThreads, 0, s>>>(d_x, count, (__nv_bfloat16*) d_out);
            GBX_RETURN_LAUNCH();
        default:
            return (int) cudaErrorInvalidValue;
    }
}

extern "C" int gbx_add_bias(float* d_x, const float* d_bias, int n, int dim, void* stream) {
    GBX_CHECK_ARG(d_x != nullptr && d_bias != nullptr && n > 0 && dim > 0);
    const int64_t total = (int64_t) n * dim;
    add_bias_kernel<<<grid_for(total, kThreads), kThreads, 0, GBX_STREAM(stream)>>>(d_x, d_bias, total, dim);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_rms_norm(const float* d_in, float* d_out, const float* d_gain, int rows, int dim, float eps,
                            void* stream) {
    GBX_CHECK_ARG(d_in != nullptr && d_out != nullptr && d_gain != nullptr && rows > 0 && dim > 0);
    GBX_CHECK_ARG(rows <= 0x7fffffff);
    rms_norm_kernel<<<(unsigned) rows, kThreads, 0, GBX_STREAM(stream)>>>(d_in, d_out, d_gain, dim, eps);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_rope(float* d_x, int n, int heads, int head_dim, int pos0, const int32_t* d_pos0, int neox,
                        int dims, const float* d_freqs, void* stream) {
    GBX_CHECK_ARG(d_x != nullptr && d_freqs != nullptr && n > 0 && heads > 0 && head_dim > 0);
    GBX_CHECK_ARG(dims >= 0 && dims % 2 == 0 && dims <= head_dim && pos0 >= 0);
    if (dims == 0) return 0;
    const int half = dims / 2;
    const int64_t total = (int64_t) n * heads * half;
    rope_kernel<<<grid_for(total, kThreads), kThreads, 0, GBX_STREAM(stream)>>>(d_x, n, heads, head_dim, pos0, d_pos0,
                                                                                neox, half, d_freqs);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_swiglu(float* d_gate, const float* d_up, int64_t count, void* stream) {
    GBX_CHECK_ARG(d_gate != nullptr && d_up != nullptr && count >= 0);
    if (count == 0) return 0;
    swiglu_kernel<<<grid_for(count, kThreads), kThreads, 0, GBX_STREAM(stream)>>>(d_gate, d_up, count);
    GBX_RETURN_LAUNCH();
}

extern "C" int gbx_add(float* d_x, const float* d_y, int64_t count, void* stream) {
    GBX_CHECK_ARG(d_x != nullptr && d_y != nullptr && count >= 0);
    if (count == 0) return 0;
    add_kernel<<<grid_for(count, kThreads), kThreads, 0, GBX_STREAM(stream)>>>(d_x, d_y, count);
    GBX_RETURN_LAUNCH();
}

