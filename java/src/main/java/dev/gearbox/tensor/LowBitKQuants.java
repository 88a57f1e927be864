package dev.gearbox.tensor;

import static dev.gearbox.tensor.Quantizer.I16;
import static dev.gearbox.tensor.Quantizer.I8;
import static dev.gearbox.tensor.Quantizer.f16;

import java.lang.foreign.MemorySegment;

/**
 * The 2- and 3-bit K-quant super-blocks (256 values, sixteen sub-blocks of 16), byte for byte as
 * GGML lays them out. Both spread a super-block's quants over two halves of 128 values: value
 * {@code v = 128h + 32j + l} (j &lt; 4, l &lt; 32) is bits 2j..2j+1 of {@code qs[32h + l]}, and belongs
 * to sub-block {@code v / 16}.
 *
 * <ul>
 * <li>Q2_K (84 bytes): u8 scales[16], u8 qs[64], fp16 d, fp16 dmin. Byte i of scales holds
 *     sub-block i's 4-bit scale (low nibble) and 4-bit min (high nibble): x = d*sc*q - dmin*m,
 *     q in 0..3.</li>
 * <li>Q3_K (110 bytes): u8 hmask[32], u8 qs[64], u8 scales[12], fp16 d. The third bit of value v
 *     is bit {@code 4h + j} of hmask[l]; a set bit means q = low2, a clear one q = low2 - 4, so q
 *     is in -4..3. Sixteen 6-bit scales s are packed into 12 bytes (see {@link #q3Scale}) and
 *     stored offset by 32: x = d*(s-32)*q.</li>
 * </ul>
 */
final class LowBitKQuants {
    private LowBitKQuants() {}

    static final int Q2_K_BYTES = 84, Q3_K_BYTES = 110;

    /**
     * Scale number j (0..15, still offset by 32) of a Q3_K block whose 12 scale bytes start at
     * {@code sc}: the low four bits are the low (j &lt; 8) or high (j &ge; 8) nibble of byte j % 8,
     * the top two bits are bits 2*(j/4) of byte 8 + j % 4.
     */
    static int q3Scale(MemorySegment s, long sc, int j) {
        int lo = (s.get(I8, sc + (j & 7)) & 0xFF) >>> (j < 8 ? 0 : 4) & 0xF;
        int hi = (s.get(I8, sc + 8 + (j & 3)) & 0xFF) >>> (2 * (j >>> 2)) & 3;
        return lo | hi << 4;
    }

    static void dequantQ2_K(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at + 80), dmin = f16(s, at + 82);
        for (int v = 0; v < 256; v++) {
            int sc = s.get(I8, at + v / 16) & 0xFF;
            int q = (s.get(I8, at + 16 + 32 * (v >>> 7) + (v & 31)) & 0xFF) >>> (2 * ((v >>> 5) & 3)) & 3;
            dst[o + v] = d * (sc & 0xF) * q - dmin * (sc >>> 4);
        }
    }

    static void dequantQ3_K(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at + 108);
        for (int v = 0; v < 256; v++) {
            int h = v >>> 7, j = (v >>> 5) & 3, l = v & 31;
            int low = (s.get(I8, at + 32 + 32 * h + l) & 0xFF) >>> (2 * j) & 3;
            int high = (s.get(I8, at + l) & 0xFF) >>> (4 * h + j) & 1;
            dst[o + v] = d * (q3Scale(s, at + 96, v / 16) - 32) * (low - (high == 0 ? 4 : 0));
        }
    }

    // ---- quantizers (for the random-model generator and tests, not for quality) ----------------

    /** Writes 2-bit quants q[0..256) (each 0..3) into the 64 qs bytes at {@code qs}. */
    private static void pack2(int[] q, MemorySegment s, long qs) {
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int b = 0;
                for (int j = 0; j < 4; j++) b |= (q[128 * h + 32 * j + l] & 3) << (2 * j);
                s.set(I8, qs + 32 * h + l, (byte) b);
            }
        }
    }

    /**
     * Q2_K: each 16-value sub-block gets scale (max-min)/3 and min -min (min clamped to at most 0:
     * the format stores a non-negative "min" that is subtracted). Scales and mins are rounded to
     * 4 bits against the block's largest, then the values are re-quantized against the rounded
     * scales so the scale rounding does not bias them.
     */
    static void quantQ2_K(float[] x, int o, MemorySegment s, long at) {
        float[] scale = new float[16], mins = new float[16];
        float maxScale = 0, maxMin = 0;
        for (int i = 0; i < 16; i++) {
            float mn = 0, mx = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < 16; l++) { mn = Math.min(mn, x[o + 16 * i + l]); mx = Math.max(mx, x[o + 16 * i + l]); }
            mx = Math.max(mx, mn);
            scale[i] = (mx - mn) / 3;
            mins[i] = -mn;
            maxScale = Math.max(maxScale, scale[i]);
            maxMin = Math.max(maxMin, mins[i]);
        }
        short dh = Float.floatToFloat16(maxScale / 15f), dminh = Float.floatToFloat16(maxMin / 15f);
        float dr = Float.float16ToFloat(dh), dminr = Float.float16ToFloat(dminh);
        s.set(I16, at + 80, dh);
        s.set(I16, at + 82, dminh);
        int[] q = new int[256];
        for (int i = 0; i < 16; i++) {
            int ls = dr > 0 ? Math.min(15, Math.round(scale[i] / dr)) : 0;
            int lm = dminr > 0 ? Math.min(15, Math.round(mins[i] / dminr)) : 0;
            s.set(I8, at + i, (byte) (ls | lm << 4));
            float dl = dr * ls, ml = dminr * lm;
            for (int l = 0; l < 16; l++) {
                int v = dl > 0 ? Math.round((x[o + 16 * i + l] + ml) / dl) : 0;
                q[16 * i + l] = Math.max(0, Math.min(3, v));
            }
        }
        pack2(q, s, at + 16);
    }

    /**
     * Q3_K: each 16-value sub-block gets the symmetric scale that maps its largest-magnitude value
     * to -4; those scales are stored as 6-bit signed numbers against the block scale d (the
     * largest maps to -32), as Q6_K does with 8-bit ones.
     */
    static void quantQ3_K(float[] x, int o, MemorySegment s, long at) {
        float[] scale = new float[16];
        float maxScale = KQuants.symmetricScales(x, o, -4f, scale);
        short dh = Float.floatToFloat16(maxScale / -32f);
        float dr = Float.float16ToFloat(dh);
        s.set(I16, at + 108, dh);
        byte[] packed = new byte[12];
        int[] q = new int[256];
        for (int i = 0; i < 16; i++) {
            int sc = dr != 0 ? Math.max(-32, Math.min(31, Math.round(scale[i] / dr))) : 0;
            int u = sc + 32;
            packed[i & 7] |= (byte) ((u & 0xF) << (i < 8 ? 0 : 4));
            packed[8 + (i & 3)] |= (byte) ((u >>> 4) << (2 * (i >>> 2)));
            float dl = dr * sc;
            for (int l = 0; l < 16; l++) {
                int v = dl != 0 ? Math.round(x[o + 16 * i + l] / dl) : 0;
                q[16 * i + l] = Math.max(-4, Math.min(3, v)) + 4; // 0..7: bit 2 goes to hmask, set = no -4
            }
        }
        for (int j = 0; j < 12; j++) s.set(I8, at + 96 + j, packed[j]);
        byte[] hmask = new byte[32];
        for (int v = 0; v < 256; v++) {
            if ((q[v] & 4) != 0) hmask[v & 31] |= (byte) (1 << (4 * (v >>> 7) + ((v >>> 5) & 3)));
        }
        for (int l = 0; l < 32; l++) s.set(I8, at + l, hmask[l]);
        pack2(q, s, at + 32);
    }
}
