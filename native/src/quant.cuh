// Per-type block decoders, byte for byte the layouts of tensor/Quantizer.java and
// tensor/KQuants.java / tensor/LowBitKQuants.java. Every type is seen as blocks of QK values and BYTES bytes, each split into
// P parts of 8 consecutive values; dequant8(block, part, w) writes values 8*part .. 8*part+7 of the
// block in natural order. One thread decoding one part keeps a warp's reads within a few
// consecutive blocks (coalesced) while every load stays a byte or an aligned half.
#pragma once

#include "common.cuh"

namespace gbx {

struct TF32 {
    static constexpr int QK = 8, BYTES = 32, P = 1;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int, float* w) {
        const float* f = reinterpret_cast<const float*>(b);  // 4-byte alignment checked on the host
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = __ldg(f + i);
    }
};

struct TF16 {
    static constexpr int QK = 8, BYTES = 16, P = 1;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int, float* w) {
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = ld_f16(b + 2 * i);
    }
};

struct TBF16 {
    static constexpr int QK = 8, BYTES = 16, P = 1;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int, float* w) {
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = ld_bf16(b + 2 * i);
    }
};

// Q8_0: fp16 d, int8 q[32]; x = d*q.
struct TQ8_0 {
    static constexpr int QK = 32, BYTES = 34, P = 4;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const float d = ld_f16(b);
        uint32_t lo, hi;
        ld_8bytes(b + 2 + 8 * part, lo, hi);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            w[i] = d * (float) (int8_t) (lo >> (8 * i));
            w[4 + i] = d * (float) (int8_t) (hi >> (8 * i));
        }
    }
};

// Shared by Q4_0/Q4_1: value j (< 16) is the low nibble of qs[j], value j+16 its high nibble.
__device__ __forceinline__ void nibbles8(const uint8_t* qs, int part, uint32_t* q) {
    uint32_t lo, hi;
    ld_8bytes(qs + 8 * (part & 1), lo, hi);
    const int sh = (part >> 1) * 4;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        q[i] = (lo >> (8 * i + sh)) & 0xF;
        q[4 + i] = (hi >> (8 * i + sh)) & 0xF;
    }
}

// Q4_0: fp16 d, qs[16]; x = d*(q-8).
struct TQ4_0 {
    static constexpr int QK = 32, BYTES = 18, P = 4;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const float d = ld_f16(b);
        uint32_t q[8];
        nibbles8(b + 2, part, q);
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = d * ((float) q[i] - 8.0f);
    }
};

// Q4_1: fp16 d, fp16 m, qs[16]; x = d*q + m.
struct TQ4_1 {
    static constexpr int QK = 32, BYTES = 20, P = 4;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const float d = ld_f16(b), m = ld_f16(b + 2);
        uint32_t q[8];
        nibbles8(b + 4, part, q);
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = d * (float) q[i] + m;
    }
};

// Q5_0: fp16 d, u32 qh, qs[16]; bit v of qh is the fifth bit of value v; x = d*(q-16).
struct TQ5_0 {
    static constexpr int QK = 32, BYTES = 22, P = 4;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const float d = ld_f16(b);
        const uint32_t qh = ld_u16(b + 2) | (ld_u16(b + 4) << 16);
        uint32_t q[8];
        nibbles8(b + 6, part, q);
        const uint32_t hb = qh >> (8 * part);
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = d * ((float) (q[i] | (((hb >> i) & 1u) << 4)) - 16.0f);
    }
};

// Scale and min number j (< 8) of a Q4_K/Q5_K block's 12 packed bytes at sc.
__device__ __forceinline__ void k_scale_min(const uint8_t* sc, int j, int& s, int& m) {
    if (j < 4) {
        s = __ldg(sc + j) & 63;
        m = __ldg(sc + j + 4) & 63;
    } else {
        const int packed = __ldg(sc + j + 4);
        s = (packed & 0xF) | ((__ldg(sc + j - 4) >> 6) << 4);
        m = (packed >> 4) | ((__ldg(sc + j) >> 6) << 4);
    }
}

// Q4_K: fp16 d, fp16 dmin, scales[12], qs[128]. Value 64c+l: low nibble of qs[32c+l], value
// 64c+32+l: its high nibble; sub-block j = value/32, x = d*sc_j*q - dmin*m_j.
struct TQ4_K {
    static constexpr int QK = 256, BYTES = 144, P = 32;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const int v0 = 8 * part, c = v0 >> 6, hi = (v0 >> 5) & 1, l0 = v0 & 31;
        int s, m;
        k_scale_min(b + 4, 2 * c + hi, s, m);
        const float ds = ld_f16(b) * (float) s, dm = ld_f16(b + 2) * (float) m;
        uint32_t lo, hi8;
        ld_8bytes(b + 16 + 32 * c + l0, lo, hi8);
        const int sh = 4 * hi;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            w[i] = ds * (float) ((lo >> (8 * i + sh)) & 0xF) - dm;
            w[4 + i] = ds * (float) ((hi8 >> (8 * i + sh)) & 0xF) - dm;
        }
    }
};

// Q5_K: fp16 d, fp16 dmin, scales[12], qh[32], qs[128]; as Q4_K plus fifth bit j (sub-block) of qh[l].
struct TQ5_K {
    static constexpr int QK = 256, BYTES = 176, P = 32;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const int v0 = 8 * part, c = v0 >> 6, hi = (v0 >> 5) & 1, l0 = v0 & 31, j = 2 * c + hi;
        int s, m;
        k_scale_min(b + 4, j, s, m);
        const float ds = ld_f16(b) * (float) s, dm = ld_f16(b + 2) * (float) m;
        uint32_t qlo, qhi, hlo, hhi;
        ld_8bytes(b + 48 + 32 * c + l0, qlo, qhi);
        ld_8bytes(b + 16 + l0, hlo, hhi);
        const int sh = 4 * hi;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const uint32_t q0 = ((qlo >> (8 * i + sh)) & 0xF) | (((hlo >> (8 * i + j)) & 1u) << 4);
            const uint32_t q1 = ((qhi >> (8 * i + sh)) & 0xF) | (((hhi >> (8 * i + j)) & 1u) << 4);
            w[i] = ds * (float) q0 - dm;
            w[4 + i] = ds * (float) q1 - dm;
        }
    }
};

// Q2_K and Q3_K (tensor/LowBitKQuants.java): value v = 128h + 32j + l is bits 2j..2j+1 of
// qs[32h+l], in sub-block v/16. Part p (values 8p..8p+7) lies in one sub-block and one j.
// Q2_K: scales[16] (scale low nibble, min high), qs[64], fp16 d, fp16 dmin; x = d*sc*q - dmin*m.
struct TQ2_K {
    static constexpr int QK = 256, BYTES = 84, P = 32;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const int v0 = 8 * part, h = v0 >> 7, j = (v0 >> 5) & 3, l0 = v0 & 31;
        const int sc = __ldg(b + (v0 >> 4));
        const float ds = ld_f16(b + 80) * (float) (sc & 0xF), dm = ld_f16(b + 82) * (float) (sc >> 4);
        uint32_t lo, hi;
        ld_8bytes(b + 16 + 32 * h + l0, lo, hi);
        const int sh = 2 * j;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            w[i] = ds * (float) ((lo >> (8 * i + sh)) & 3) - dm;
            w[4 + i] = ds * (float) ((hi >> (8 * i + sh)) & 3) - dm;
        }
    }
};

// Q3_K: hmask[32], qs[64], scales[12], fp16 d. Third bit: bit 4h+j of hmask[l], clear = q-4.
// Scale s (6 bits, offset 32) of sub-block i: nibble i/8 of scales[i%8], top bits 2*(i/4) of
// scales[8+i%4]; x = d*(s-32)*q.
struct TQ3_K {
    static constexpr int QK = 256, BYTES = 110, P = 32;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const int v0 = 8 * part, h = v0 >> 7, j = (v0 >> 5) & 3, l0 = v0 & 31, is = v0 >> 4;
        const int lo4 = (__ldg(b + 96 + (is & 7)) >> (4 * (is >> 3))) & 0xF;
        const int hi2 = (__ldg(b + 104 + (is & 3)) >> (2 * (is >> 2))) & 3;
        const float ds = ld_f16(b + 108) * (float) ((lo4 | hi2 << 4) - 32);
        uint32_t qlo, qhi, mlo, mhi;
        ld_8bytes(b + 32 + 32 * h + l0, qlo, qhi);
        ld_8bytes(b + l0, mlo, mhi);
        const int sh = 2 * j, hs = 4 * h + j;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int q0 = (int) ((qlo >> (8 * i + sh)) & 3) - (((mlo >> (8 * i + hs)) & 1u) ? 0 : 4);
            const int q1 = (int) ((qhi >> (8 * i + sh)) & 3) - (((mhi >> (8 * i + hs)) & 1u) ? 0 : 4);
            w[i] = ds * (float) q0;
            w[4 + i] = ds * (float) q1;
        }
    }
};

// Q6_K: ql[128], qh[64], int8 scales[16], fp16 d. In half h (128 values), group g (32 values), l < 32:
// value 128h+32g+l is nibble g/2 (low for groups 0,1, high for 2,3) of ql[64h + 32*(g&1) + l] plus
// bits 2g, 2g+1 of qh[32h+l]; scale index 8h + l/16 + 2g; x = d*scale*(q-32).
struct TQ6_K {
    static constexpr int QK = 256, BYTES = 210, P = 32;
    __device__ static __forceinline__ void dequant8(const uint8_t* b, int part, float* w) {
        const int v0 = 8 * part, h = v0 >> 7, g = (v0 >> 5) & 3, l0 = v0 & 31;
        const float ds = ld_f16(b + 208) * (float) (int8_t) __ldg(b + 192 + 8 * h + (l0 >> 4) + 2 * g);
        uint32_t llo, lhi, hlo, hhi;
        ld_8bytes(b + 64 * h + 32 * (g & 1) + l0, llo, lhi);
        ld_8bytes(b + 128 + 32 * h + l0, hlo, hhi);
        const int ns = 4 * (g >> 1), hs = 2 * g;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int q0 = (int) (((llo >> (8 * i + ns)) & 0xF) | (((hlo >> (8 * i + hs)) & 3u) << 4));
            const int q1 = (int) (((lhi >> (8 * i + ns)) & 0xF) | (((hhi >> (8 * i + hs)) & 3u) << 4));
            w[i] = ds * (float) (q0 - 32);
            w[4 + i] = ds * (float) (q1 - 32);
        }
    }
};

// Calls f.template operator()<T>() with the decoder of `type`; returns false for an unknown type.
template <class F>
inline bool dispatch_type(int type, F&& f) {
    switch (type) {
        case GBX_TYPE_F32: f(TF32{}); return true;
        case GBX_TYPE_F16: f(TF16{}); return true;
        case GBX_TYPE_BF16: f(TBF16{}); return true;
        case GBX_TYPE_Q8_0: f(TQ8_0{}); return true;
        case GBX_TYPE_Q4_0: f(TQ4_0{}); return true;
        case GBX_TYPE_Q4_1: f(TQ4_1{}); return true;
        case GBX_TYPE_Q5_0: f(TQ5_0{}); return true;
        case GBX_TYPE_Q2_K: f(TQ2_K{}); return true;
        case GBX_TYPE_Q3_K: f(TQ3_K{}); return true;
        case GBX_TYPE_Q4_K: f(TQ4_K{}); return true;
        case GBX_TYPE_Q5_K: f(TQ5_K{}); return true;
        case GBX_TYPE_Q6_K: f(TQ6_K{}); return true;
        default: return false;
    }
}

// Block size and bytes of a type (0 when unknown), for host-side checks.
inline void type_geometry(int type, int& qk, int& bytes) {
    switch (type) {
        case GBX_TYPE_F32: qk = 1; bytes = 4; return;
        case GBX_TYPE_F16: case GBX_TYPE_BF16: qk = 1; bytes = 2; return;
        case GBX_TYPE_Q8_0: qk = 32; bytes = 34; return;
        case GBX_TYPE_Q4_0: qk = 32; bytes = 18; return;
        case GBX_TYPE_Q4_1: qk = 32; bytes = 20; return;
        case GBX_TYPE_Q5_0: qk = 32; bytes = 22; return;
        case GBX_TYPE_Q2_K: qk = 256; bytes = 84; return;
        case GBX_TYPE_Q3_K: qk = 256; bytes = 110; return;
        case GBX_TYPE_Q4_K: qk = 256; bytes = 144; return;
        case GBX_TYPE_Q5_K: qk = 256; bytes = 176; return;
        case GBX_TYPE_Q6_K: qk = 256; bytes = 210; return;
        default: qk = 0; bytes = 0; return;
    }
}

// Value i of a plain (F32/F16/BF16) row, for rows whose length is not a multiple of 8.
__device__ __forceinline__ float plain_at(int type, const uint8_t* row, int64_t i) {
    if (type == GBX_TYPE_F32) return __ldg(reinterpret_cast<const float*>(row) + i);
    if (type == GBX_TYPE_F16) return ld_f16(row + 2 * i);
    return ld_bf16(row + 2 * i);
}

}  // namespace gbx
