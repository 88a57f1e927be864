package dev.gearbox.tensor;

import static dev.gearbox.tensor.Quantizer.I16;
import static dev.gearbox.tensor.Quantizer.I8;
import static dev.gearbox.tensor.Quantizer.f16;

import java.lang.foreign.MemorySegment;

/**
 * The 256-value "K-quant" super-block formats, byte for byte as GGML lays them out.
 *
 * <ul>
 * <li>Q4_K (144 bytes): fp16 d, fp16 dmin, u8 scales[12], u8 qs[128]. Eight sub-blocks of 32, each
 *     with a 6-bit scale sc and 6-bit min m: x = d*sc*q - dmin*m. Values 64c..64c+31 are the low
 *     nibbles of qs[32c..32c+31], values 64c+32.. their high nibbles.</li>
 * <li>Q5_K (176 bytes): fp16 d, fp16 dmin, scales[12], u8 qh[32], u8 qs[128]; as Q4_K plus a fifth
 *     bit: value 64c+l takes bit 2c of qh[l], value 64c+32+l bit 2c+1.</li>
 * <li>Q6_K (210 bytes): u8 ql[128], u8 qh[64], int8 scales[16], fp16 d. Sixteen sub-blocks of 16,
 *     x = d*scales[i]*(q-32). In each half h (128 values) with l < 32: value l is the low nibble of
 *     ql[64h+l] plus bits 0-1 of qh[32h+l]; value 32+l low nibble of ql[64h+32+l], qh bits 2-3;
 *     value 64+l high nibble of ql[64h+l], qh bits 4-5; value 96+l high nibble of ql[64h+32+l],
 *     qh bits 6-7.</li>
 * </ul>
 * The 12 scale bytes of Q4_K/Q5_K hold eight 6-bit scales and eight 6-bit mins: for j &lt; 4,
 * scale j = bytes[j] &amp; 63 and min j = bytes[j+4] &amp; 63; for j &ge; 4 the low four bits are
 * the nibbles of bytes[j+4] (scale low, min high) and the top two bits are the top bits of
 * bytes[j-4] (scale) and bytes[j] (min).
 */
final class KQuants {
    private KQuants() {}

    /** Scale (index j) or min (index j+8) number j of a Q4_K/Q5_K block's 12 packed bytes at {@code sc}. */
    static int scaleMin(MemorySegment s, long sc, int j, boolean min) {
        if (j < 4) {
            return (s.get(I8, sc + j + (min ? 4 : 0))) & 63;
        }
        int packed = s.get(I8, sc + j + 4) & 0xFF;
        int top = (s.get(I8, sc + j - (min ? 0 : 4)) & 0xFF) >>> 6;
        return (min ? packed >>> 4 : packed & 0xF) | top << 4;
    }

    /**
     * Reads a Q4_K/Q5_K block's d, dmin and 12 packed bytes (block at {@code bo}) into
     * {@code out[o + j] = d * scale_j} and {@code out[o + 8 + j] = dmin * min_j}, with three 32-bit reads
     * instead of sixteen byte-wise {@link #scaleMin} calls.
     */
    static void unpackScales(MemorySegment s, long bo, float[] out, int o) {
        float d = f16(s, bo), dmin = f16(s, bo + 2);
        int q0 = s.get(Quantizer.I32, bo + 4), q1 = s.get(Quantizer.I32, bo + 8), q2 = s.get(Quantizer.I32, bo + 12);
        for (int j = 0; j < 4; j++) {
            int sh = 8 * j;
            int b0 = (q0 >>> sh) & 0xFF, b1 = (q1 >>> sh) & 0xFF, b2 = (q2 >>> sh) & 0xFF;
            out[o + j] = d * (b0 & 63);
            out[o + 8 + j] = dmin * (b1 & 63);
            out[o + 4 + j] = d * ((b2 & 0xF) | (b0 >>> 6) << 4);
            out[o + 12 + j] = dmin * ((b2 >>> 4) | (b1 >>> 6) << 4);
        }
    }

    static void dequantQ4_K(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at), dmin = f16(s, at + 2);
        long sc = at + 4, qs = at + 16;
        for (int c = 0; c < 4; c++) {
            float d1 = d * scaleMin(s, sc, 2 * c, false), m1 = dmin * scaleMin(s, sc, 2 * c, true);
            float d2 = d * scaleMin(s, sc, 2 * c + 1, false), m2 = dmin * scaleMin(s, sc, 2 * c + 1, true);
            for (int l = 0; l < 32; l++) {
                int q = s.get(I8, qs + 32 * c + l) & 0xFF;
                dst[o + 64 * c + l] = d1 * (q & 0xF) - m1;
                dst[o + 64 * c + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }

    static void dequantQ5_K(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at), dmin = f16(s, at + 2);
        long sc = at + 4, qh = at + 16, qs = at + 48;
        for (int c = 0; c < 4; c++) {
            float d1 = d * scaleMin(s, sc, 2 * c, false), m1 = dmin * scaleMin(s, sc, 2 * c, true);
            float d2 = d * scaleMin(s, sc, 2 * c + 1, false), m2 = dmin * scaleMin(s, sc, 2 * c + 1, true);
            for (int l = 0; l < 32; l++) {
                int q = s.get(I8, qs + 32 * c + l) & 0xFF;
                int h = s.get(I8, qh + l) & 0xFF;
                dst[o + 64 * c + l] = d1 * ((q & 0xF) | ((h >>> (2 * c)) & 1) << 4) - m1;
                dst[o + 64 * c + 32 + l] = d2 * ((q >>> 4) | ((h >>> (2 * c + 1)) & 1) << 4) - m2;
            }
        }
    }

    static void dequantQ6_K(MemorySegment s, long at, float[] dst, int o) {
        long ql = at, qh = at + 128, sc = at + 192;
        float d = f16(s, at + 208);
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int a = s.get(I8, ql + 64 * h + l) & 0xFF;
                int b = s.get(I8, ql + 64 * h + 32 + l) & 0xFF;
                int hb = s.get(I8, qh + 32 * h + l) & 0xFF;
                int q1 = ((a & 0xF) | (hb & 3) << 4) - 32;
                int q2 = ((b & 0xF) | ((hb >>> 2) & 3) << 4) - 32;
                int q3 = ((a >>> 4) | ((hb >>> 4) & 3) << 4) - 32;
                int q4 = ((b >>> 4) | ((hb >>> 6) & 3) << 4) - 32;
                int is = 8 * h + l / 16;
                int base = o + 128 * h + l;
                dst[base] = d * s.get(I8, sc + is) * q1;
                dst[base + 32] = d * s.get(I8, sc + is + 2) * q2;
                dst[base + 64] = d * s.get(I8, sc + is + 4) * q3;
                dst[base + 96] = d * s.get(I8, sc + is + 6) * q4;
            }
        }
    }

    // ---- quantizers ---------------------------------------------------------------------------

    /**
     * Asymmetric sub-block fit for Q4_K/Q5_K: each 32-value sub-block gets scale (max-min)/maxQ
     * and min -min (min clamped to at most 0, as GGML's format requires a non-negative "min").
     * Scales and mins are then quantized to 6 bits against the block's largest, and the values
     * re-quantized against the rounded scales so rounding of the scales does not bias them.
     */
    private static void quantAsymK(float[] x, int o, MemorySegment s, long at, int maxQ, int[] q) {
        float[] scale = new float[8], mins = new float[8];
        float maxScale = 0, maxMin = 0;
        for (int i = 0; i < 8; i++) {
            float mn = 0, mx = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < 32; l++) { mn = Math.min(mn, x[o + 32 * i + l]); mx = Math.max(mx, x[o + 32 * i + l]); }
            mx = Math.max(mx, mn);
            scale[i] = (mx - mn) / maxQ;
            mins[i] = -mn;
            maxScale = Math.max(maxScale, scale[i]);
            maxMin = Math.max(maxMin, mins[i]);
        }
        float d = maxScale / 63f, dmin = maxMin / 63f;
        short dh = Float.floatToFloat16(d), dminh = Float.floatToFloat16(dmin);
        float dr = Float.float16ToFloat(dh), dminr = Float.float16ToFloat(dminh);
        int[] ls = new int[8], lm = new int[8];
        for (int i = 0; i < 8; i++) {
            ls[i] = dr > 0 ? Math.min(63, Math.round(scale[i] / dr)) : 0;
            lm[i] = dminr > 0 ? Math.min(63, Math.round(mins[i] / dminr)) : 0;
        }
        s.set(I16, at, dh);
        s.set(I16, at + 2, dminh);
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                packed[j] = (byte) ls[j];
                packed[j + 4] = (byte) lm[j];
            } else {
                packed[j + 4] = (byte) ((ls[j] & 0xF) | (lm[j] & 0xF) << 4);
                packed[j - 4] |= (byte) ((ls[j] >>> 4) << 6);
                packed[j] |= (byte) ((lm[j] >>> 4) << 6);
            }
        }
        for (int j = 0; j < 12; j++) s.set(I8, at + 4 + j, packed[j]);
        for (int i = 0; i < 8; i++) {
            float dl = dr * ls[i], ml = dminr * lm[i];
            for (int l = 0; l < 32; l++) {
                int v = dl > 0 ? Math.round((x[o + 32 * i + l] + ml) / dl) : 0;
                q[32 * i + l] = Math.max(0, Math.min(maxQ, v));
            }
        }
    }

    static void quantQ4_K(float[] x, int o, MemorySegment s, long at) {
        int[] q = new int[256];
        quantAsymK(x, o, s, at, 15, q);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                s.set(I8, at + 16 + 32 * c + l, (byte) (q[64 * c + l] | q[64 * c + 32 + l] << 4));
            }
        }
    }

    static void quantQ5_K(float[] x, int o, MemorySegment s, long at) {
        int[] q = new int[256];
        quantAsymK(x, o, s, at, 31, q);
        byte[] qh = new byte[32];
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                qh[l] |= (byte) (((lo >>> 4) & 1) << (2 * c) | ((hi >>> 4) & 1) << (2 * c + 1));
                s.set(I8, at + 48 + 32 * c + l, (byte) ((lo & 0xF) | (hi & 0xF) << 4));
            }
        }
        for (int l = 0; l < 32; l++) s.set(I8, at + 16 + l, qh[l]);
    }

    /**
     * For each of the 16 sub-blocks of 16 values at x[o..]: the scale that maps its largest-magnitude
     * value to {@code level} (into {@code scale}); returns the scale of largest magnitude, with its sign.
     */
    static float symmetricScales(float[] x, int o, float level, float[] scale) {
        float maxScale = 0, amaxScale = 0;
        for (int i = 0; i < 16; i++) {
            float amax = 0, max = 0;
            for (int l = 0; l < 16; l++) {
                float v = x[o + 16 * i + l];
                if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
            }
            scale[i] = max / level;
            if (Math.abs(scale[i]) > amaxScale) { amaxScale = Math.abs(scale[i]); maxScale = scale[i]; }
        }
        return maxScale;
    }

    /**
     * Q6_K: each 16-value sub-block gets the symmetric scale that maps its largest-magnitude value
     * to -32; those scales are stored as int8 against the block scale d (largest maps to -128).
     */
    static void quantQ6_K(float[] x, int o, MemorySegment s, long at) {
        float[] scale = new float[16];
        float maxScale = symmetricScales(x, o, -32f, scale);
        float d = maxScale / -128f;
        short dh = Float.floatToFloat16(d);
        float dr = Float.float16ToFloat(dh);
        s.set(I16, at + 208, dh);
        int[] q = new int[256];
        for (int i = 0; i < 16; i++) {
            int sc = dr != 0 ? Math.max(-128, Math.min(127, Math.round(scale[i] / dr))) : 0;
            s.set(I8, at + 192 + i, (byte) sc);
            float dl = dr * sc;
            for (int l = 0; l < 16; l++) {
                int v = dl != 0 ? Math.round(x[o + 16 * i + l] / dl) : 0;
                q[16 * i + l] = Math.max(-32, Math.min(31, v)) + 32;
            }
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int q1 = q[128 * h + l], q2 = q[128 * h + 32 + l], q3 = q[128 * h + 64 + l], q4 = q[128 * h + 96 + l];
                s.set(I8, at + 64 * h + l, (byte) ((q1 & 0xF) | (q3 & 0xF) << 4));
                s.set(I8, at + 64 * h + 32 + l, (byte) ((q2 & 0xF) | (q4 & 0xF) << 4));
                s.set(I8, at + 128 + 32 * h + l, (byte) ((q1 >>> 4) | (q2 >>> 4) << 2 | (q3 >>> 4) << 4 | (q4 >>> 4) << 6));
            }
        }
    }
}
