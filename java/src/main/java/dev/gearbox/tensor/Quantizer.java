package dev.gearbox.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Converts between F32 values and each tensor type's bytes. Quantizing is used by the test-model
 * generator; dequantizing is the reference the fast kernels are checked against.
 */
public final class Quantizer {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quantizer() {}

    /** Dequantizes row {@code row} of {@code w} into {@code dst[off .. off + cols)}. */
    public static void dequantizeRow(WeightMatrix w, int row, float[] dst, int off) {
        dequantize(w.type(), w.data().asSlice(row * w.rowBytes(), w.rowBytes()), dst, off, w.cols());
    }

    /** Dequantizes {@code count} values of {@code type} from {@code src} into {@code dst[off ..]}. */
    public static void dequantize(GGMLType type, MemorySegment src, float[] dst, int off, int count) {
        switch (type) {
            case F32 -> { for (int i = 0; i < count; i++) dst[off + i] = src.get(F32, 4L * i); }
            case F16 -> { for (int i = 0; i < count; i++) dst[off + i] = Float.float16ToFloat(src.get(I16, 2L * i)); }
            case BF16 -> { for (int i = 0; i < count; i++) dst[off + i] = Float.intBitsToFloat((src.get(I16, 2L * i) & 0xFFFF) << 16); }
            default -> throw new UnsupportedOperationException("no dequantizer for " + type + " yet");
        }
    }

    /** The bytes of {@code values} in {@code type}'s layout; values.length is a multiple of the block size. */
    public static byte[] quantize(GGMLType type, float[] values) {
        byte[] out = new byte[(int) type.byteSize(values.length)];
        MemorySegment seg = MemorySegment.ofArray(out);
        switch (type) {
            case F32 -> { for (int i = 0; i < values.length; i++) seg.set(F32, 4L * i, values[i]); }
            case F16 -> { for (int i = 0; i < values.length; i++) seg.set(I16, 2L * i, Float.floatToFloat16(values[i])); }
            case BF16 -> { for (int i = 0; i < values.length; i++) seg.set(I16, 2L * i, (short) (bf16Round(values[i]) >>> 16)); }
            default -> throw new UnsupportedOperationException("no quantizer for " + type + " yet");
        }
        return out;
    }

    private static int bf16Round(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return bits | 0x00400000;
        return bits + 0x7FFF + ((bits >>> 16) & 1); // round to nearest even
    }
}
