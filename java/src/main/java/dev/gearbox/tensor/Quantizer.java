package dev.gearbox.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Converts between F32 values and each tensor type's bytes, in exactly the little-endian block
 * layouts GGML (and so GGUF files) use. Quantizing is used by the test-model generator;
 * dequantizing is the reference the fast kernels are checked against. The 32-value formats live
 * here, the 256-value K-quants in {@link KQuants} (4-6 bits) and {@link LowBitKQuants} (2-3 bits).
 *
 * <p>Layouts (bytes, in order): Q8_0 = fp16 d, int8 q[32] (x = d*q). Q4_0 = fp16 d, u8 qs[16]
 * (value j in the low nibble of qs[j], value j+16 in its high nibble; x = d*(q-8)). Q4_1 = fp16 d,
 * fp16 m, qs[16] (x = d*q + m). Q5_0 = fp16 d, u32 qh, qs[16] (bit j of qh is the fifth bit of
 * value j; x = d*(q-16)).
 */
public final class Quantizer {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private Quantizer() {}

    /** Dequantizes row {@code row} of {@code w} into {@code dst[off .. off + cols)}. */
    public static void dequantizeRow(WeightMatrix w, int row, float[] dst, int off) {
        if (row < 0 || row >= w.rows()) {
            throw new IndexOutOfBoundsException("row " + row + " outside [0, " + w.rows() + ")");
        }
        dequantize(w.type(), w.data().asSlice(row * w.rowBytes(), w.rowBytes()), dst, off, w.cols());
    }

    /** Dequantizes {@code count} values of {@code type} from {@code src} into {@code dst[off ..]}. */
    public static void dequantize(GGMLType type, MemorySegment src, float[] dst, int off, int count) {
        long need = type.byteSize(count);
        if (src.byteSize() < need) {
            throw new IllegalArgumentException(type + ": " + count + " values need " + need + " bytes, source has " + src.byteSize());
        }
        if (off < 0 || off + count > dst.length) {
            throw new IndexOutOfBoundsException("destination [" + off + ", " + (off + count) + ") outside array of " + dst.length);
        }
        int nb = count / type.blockSize();
        switch (type) {
            case F32 -> { for (int i = 0; i < count; i++) dst[off + i] = src.get(F32, 4L * i); }
            case F16 -> { for (int i = 0; i < count; i++) dst[off + i] = Float.float16ToFloat(src.get(I16, 2L * i)); }
            case BF16 -> { for (int i = 0; i < count; i++) dst[off + i] = bf16ToFloat(src.get(I16, 2L * i)); }
            case Q8_0 -> { for (int b = 0; b < nb; b++) dequantQ8_0(src, 34L * b, dst, off + 32 * b); }
            case Q4_0 -> { for (int b = 0; b < nb; b++) dequantQ4_0(src, 18L * b, dst, off + 32 * b); }
            case Q4_1 -> { for (int b = 0; b < nb; b++) dequantQ4_1(src, 20L * b, dst, off + 32 * b); }
            case Q5_0 -> { for (int b = 0; b < nb; b++) dequantQ5_0(src, 22L * b, dst, off + 32 * b); }
            case Q2_K -> { for (int b = 0; b < nb; b++) LowBitKQuants.dequantQ2_K(src, 84L * b, dst, off + 256 * b); }
            case Q3_K -> { for (int b = 0; b < nb; b++) LowBitKQuants.dequantQ3_K(src, 110L * b, dst, off + 256 * b); }
            case Q4_K -> { for (int b = 0; b < nb; b++) KQuants.dequantQ4_K(src, 144L * b, dst, off + 256 * b); }
            case Q5_K -> { for (int b = 0; b < nb; b++) KQuants.dequantQ5_K(src, 176L * b, dst, off + 256 * b); }
            case Q6_K -> { for (int b = 0; b < nb; b++) KQuants.dequantQ6_K(src, 210L * b, dst, off + 256 * b); }
            default -> throw new UnsupportedOperationException("no dequantizer for " + type);
        }
    }

    /** The bytes of {@code values} in {@code type}'s layout; values.length is a multiple of the block size. */
    public static byte[] quantize(GGMLType type, float[] values) {
        long size = type.byteSize(values.length);
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(type + ": " + values.length + " values do not fit one byte array");
        }
        byte[] out = new byte[(int) size];
        MemorySegment seg = MemorySegment.ofArray(out);
        int nb = values.length / type.blockSize();
        switch (type) {
            case F32 -> { for (int i = 0; i < values.length; i++) seg.set(F32, 4L * i, values[i]); }
            case F16 -> { for (int i = 0; i < values.length; i++) seg.set(I16, 2L * i, Float.floatToFloat16(values[i])); }
            case BF16 -> { for (int i = 0; i < values.length; i++) seg.set(I16, 2L * i, (short) (bf16Round(values[i]) >>> 16)); }
            case Q8_0 -> { for (int b = 0; b < nb; b++) quantQ8_0(values, 32 * b, seg, 34L * b); }
            case Q4_0 -> { for (int b = 0; b < nb; b++) quantQ4_0(values, 32 * b, seg, 18L * b); }
            case Q4_1 -> { for (int b = 0; b < nb; b++) quantQ4_1(values, 32 * b, seg, 20L * b); }
            case Q5_0 -> { for (int b = 0; b < nb; b++) quantQ5_0(values, 32 * b, seg, 22L * b); }
            case Q2_K -> { for (int b = 0; b < nb; b++) LowBitKQuants.quantQ2_K(values, 256 * b, seg, 84L * b); }
            case Q3_K -> { for (int b = 0; b < nb; b++) LowBitKQuants.quantQ3_K(values, 256 * b, seg, 110L * b); }
            case Q4_K -> { for (int b = 0; b < nb; b++) KQuants.quantQ4_K(values, 256 * b, seg, 144L * b); }
            case Q5_K -> { for (int b = 0; b < nb; b++) KQuants.quantQ5_K(values, 256 * b, seg, 176L * b); }
            case Q6_K -> { for (int b = 0; b < nb; b++) KQuants.quantQ6_K(values, 256 * b, seg, 210L * b); }
            default -> throw new UnsupportedOperationException("no quantizer for " + type);
        }
        return out;
    }

    static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    static float f16(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(I16, at));
    }

    private static int bf16Round(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return bits | 0x00400000;
        return bits + 0x7FFF + ((bits >>> 16) & 1); // round to nearest even
    }

    // ---- 32-value block formats -------------------------------------------------------------

    private static void dequantQ8_0(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at);
        for (int j = 0; j < 32; j++) dst[o + j] = d * s.get(I8, at + 2 + j);
    }

    private static void dequantQ4_0(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at);
        for (int j = 0; j < 16; j++) {
            int q = s.get(I8, at + 2 + j) & 0xFF;
            dst[o + j] = d * ((q & 0xF) - 8);
            dst[o + j + 16] = d * ((q >>> 4) - 8);
        }
    }

    private static void dequantQ4_1(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at), m = f16(s, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = s.get(I8, at + 4 + j) & 0xFF;
            dst[o + j] = d * (q & 0xF) + m;
            dst[o + j + 16] = d * (q >>> 4) + m;
        }
    }

    private static void dequantQ5_0(MemorySegment s, long at, float[] dst, int o) {
        float d = f16(s, at);
        int qh = s.get(I32, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = s.get(I8, at + 6 + j) & 0xFF;
            int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
            dst[o + j] = d * (lo - 16);
            dst[o + j + 16] = d * (hi - 16);
        }
    }

    private static void quantQ8_0(float[] x, int o, MemorySegment s, long at) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        s.set(I16, at, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) s.set(I8, at + 2 + j, (byte) Math.round(x[o + j] * id));
    }

    /** Symmetric 4/5-bit: the value of largest magnitude maps to -2^(bits-1) exactly, as GGML does. */
    private static float signedMaxScale(float[] x, int o, int levels) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
        }
        return max / -levels;
    }

    private static void quantQ4_0(float[] x, int o, MemorySegment s, long at) {
        float d = signedMaxScale(x, o, 8);
        float id = d != 0 ? 1f / d : 0f;
        s.set(I16, at, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[o + j + 16] * id + 8.5f));
            s.set(I8, at + 2 + j, (byte) (lo | hi << 4));
        }
    }

    private static void quantQ4_1(float[] x, int o, MemorySegment s, long at) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < 32; j++) { min = Math.min(min, x[o + j]); max = Math.max(max, x[o + j]); }
        float d = (max - min) / 15f;
        float id = d != 0 ? 1f / d : 0f;
        s.set(I16, at, Float.floatToFloat16(d));
        s.set(I16, at + 2, Float.floatToFloat16(min));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, Math.max(0, (int) ((x[o + j] - min) * id + 0.5f)));
            int hi = Math.min(15, Math.max(0, (int) ((x[o + j + 16] - min) * id + 0.5f)));
            s.set(I8, at + 4 + j, (byte) (lo | hi << 4));
        }
    }

    private static void quantQ5_0(float[] x, int o, MemorySegment s, long at) {
        float d = signedMaxScale(x, o, 16);
        float id = d != 0 ? 1f / d : 0f;
        s.set(I16, at, Float.floatToFloat16(d));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(31, (int) (x[o + j] * id + 16.5f));
            int hi = Math.min(31, (int) (x[o + j + 16] * id + 16.5f));
            s.set(I8, at + 6 + j, (byte) ((lo & 0xF) | (hi & 0xF) << 4));
            qh |= ((lo >>> 4) & 1) << j;
            qh |= ((hi >>> 4) & 1) << (j + 16);
        }
        s.set(I32, at + 2, qh);
    }
}
