package dev.gearbox.tensor;

import static dev.gearbox.tensor.DotKernels.B;
import static dev.gearbox.tensor.DotKernels.F;
import static dev.gearbox.tensor.DotKernels.I;
import static dev.gearbox.tensor.DotKernels.L;
import static dev.gearbox.tensor.DotKernels.LE;
import static dev.gearbox.tensor.DotKernels.f16;
import static dev.gearbox.tensor.Quantizer.I16;
import static dev.gearbox.tensor.Quantizer.I32;
import static dev.gearbox.tensor.Quantizer.I8;
import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.B2I;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Vectorized decoding of one weight row into floats, for the prefill tiles: a row is decoded
 * into a small per-thread buffer once and then used by every token of the batch.
 */
final class RowDecoders {
    private RowDecoders() {}

    private static final int[] IOTA32 = new int[32];
    static {
        for (int i = 0; i < 32; i++) IOTA32[i] = i;
    }

    /** Decodes the row starting at byte {@code at} of {@code cols} values into {@code dst[o ..]}. */
    static void decode(GGMLType type, MemorySegment s, long at, int cols, float[] dst, int o) {
        int nb = cols / type.blockSize();
        // One method per type: a single method with every decoder is too large for C2 to inline
        // the vector operations into, and falls back to allocating vector boxes.
        switch (type) {
            case F32 -> decodeF32(type, s, at, cols, nb, dst, o);
            case F16 -> decodeF16(type, s, at, cols, nb, dst, o);
            case BF16 -> decodeBF16(type, s, at, cols, nb, dst, o);
            case Q8_0 -> decodeQ80(type, s, at, cols, nb, dst, o);
            case Q4_0 -> decodeQ40(type, s, at, cols, nb, dst, o);
            case Q4_1 -> decodeQ41(type, s, at, cols, nb, dst, o);
            case Q5_0 -> decodeQ50(type, s, at, cols, nb, dst, o);
            case Q2_K -> decodeQ2K(type, s, at, cols, nb, dst, o);
            case Q3_K -> decodeQ3K(type, s, at, cols, nb, dst, o);
            case Q4_K, Q5_K -> decodeQ4K(type, s, at, cols, nb, dst, o);
            case Q6_K -> decodeQ6K(type, s, at, cols, nb, dst, o);
            default -> throw new UnsupportedOperationException("no row decoder for " + type);
        }
    }

    private static void decodeF32(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        MemorySegment.copy(s, Quantizer.F32, at, dst, o, cols);
    }

    private static void decodeF16(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        int c = 0;
        for (; c + L <= cols; c += L) DotKernels.halfs(s, at + 2L * c).intoArray(dst, o + c);
        for (; c < cols; c++) dst[o + c] = Float.float16ToFloat(s.get(I16, at + 2L * c));
    }

    private static void decodeBF16(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        int c = 0;
        for (; c + L <= cols; c += L) DotKernels.bhalfs(s, at + 2L * c).intoArray(dst, o + c);
        for (; c < cols; c++) dst[o + c] = Quantizer.bf16ToFloat(s.get(I16, at + 2L * c));
    }

    private static void decodeQ80(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 34L * b;
            FloatVector d = FloatVector.broadcast(F, f16(s, bo));
            for (int j = 0; j < 32; j += L) {
                ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE).convertShape(B2F, F, 0)).mul(d).intoArray(dst, o + 32 * b + j);
            }
        }
    }

    private static void decodeQ40(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 18L * b;
            FloatVector d = FloatVector.broadcast(F, f16(s, bo));
            for (int j = 0; j < 16; j += L) {
                ByteVector v = ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE);
                ((FloatVector) v.and((byte) 0xF).sub((byte) 8).convertShape(B2F, F, 0)).mul(d).intoArray(dst, o + 32 * b + j);
                ((FloatVector) v.lanewise(LSHR, 4).sub((byte) 8).convertShape(B2F, F, 0)).mul(d).intoArray(dst, o + 32 * b + 16 + j);
            }
        }
    }

    private static void decodeQ41(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 20L * b;
            FloatVector d = FloatVector.broadcast(F, f16(s, bo)), m = FloatVector.broadcast(F, f16(s, bo + 2));
            for (int j = 0; j < 16; j += L) {
                ByteVector v = ByteVector.fromMemorySegment(B, s, bo + 4 + j, LE);
                ((FloatVector) v.and((byte) 0xF).convertShape(B2F, F, 0)).fma(d, m).intoArray(dst, o + 32 * b + j);
                ((FloatVector) v.lanewise(LSHR, 4).convertShape(B2F, F, 0)).fma(d, m).intoArray(dst, o + 32 * b + 16 + j);
            }
        }
    }

    private static void decodeQ50(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 22L * b;
            FloatVector d = FloatVector.broadcast(F, f16(s, bo));
            IntVector qh = IntVector.broadcast(I, s.get(I32, bo + 2));
            for (int j = 0; j < 16; j += L) {
                ByteVector v = ByteVector.fromMemorySegment(B, s, bo + 6 + j, LE);
                IntVector lo = (IntVector) v.and((byte) 0xF).convertShape(B2I, I, 0);
                IntVector hi = (IntVector) v.lanewise(LSHR, 4).convertShape(B2I, I, 0);
                lo = lo.or(qh.lanewise(LSHR, IntVector.fromArray(I, IOTA32, j)).and(1).lanewise(LSHL, 4)).sub(16);
                hi = hi.or(qh.lanewise(LSHR, IntVector.fromArray(I, IOTA32, 16 + j)).and(1).lanewise(LSHL, 4)).sub(16);
                ((FloatVector) lo.convertShape(I2F, F, 0)).mul(d).intoArray(dst, o + 32 * b + j);
                ((FloatVector) hi.convertShape(I2F, F, 0)).mul(d).intoArray(dst, o + 32 * b + 16 + j);
            }
        }
    }

    private static void decodeQ4K(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        boolean five = type == GGMLType.Q5_K;
        long size = five ? 176 : 144;
        for (int b = 0; b < nb; b++) {
            long bo = at + size * b;
            float d = f16(s, bo), dmin = f16(s, bo + 2);
            long sc = bo + 4, qh = bo + 16, qs = bo + (five ? 48 : 16);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * KQuants.scaleMin(s, sc, 2 * c, false));
                FloatVector m1 = FloatVector.broadcast(F, -dmin * KQuants.scaleMin(s, sc, 2 * c, true));
                FloatVector d2 = FloatVector.broadcast(F, d * KQuants.scaleMin(s, sc, 2 * c + 1, false));
                FloatVector m2 = FloatVector.broadcast(F, -dmin * KQuants.scaleMin(s, sc, 2 * c + 1, true));
                for (int j = 0; j < 32; j += L) {
                    ByteVector v = ByteVector.fromMemorySegment(B, s, qs + 32 * c + j, LE);
                    ByteVector lo = v.and((byte) 0xF), hi = v.lanewise(LSHR, 4);
                    if (five) {
                        ByteVector h = ByteVector.fromMemorySegment(B, s, qh + j, LE).lanewise(LSHR, 2 * c);
                        lo = lo.or(h.and((byte) 1).lanewise(LSHL, 4));
                        hi = hi.or(h.and((byte) 2).lanewise(LSHL, 3));
                    }
                    int xo = o + 256 * b + 64 * c + j;
                    ((FloatVector) lo.convertShape(B2F, F, 0)).fma(d1, m1).intoArray(dst, xo);
                    ((FloatVector) hi.convertShape(B2F, F, 0)).fma(d2, m2).intoArray(dst, xo + 32);
                }
            }
        }
    }

    /** Q2_K: value 128h+32j+l is bits 2j..2j+1 of qs[32h+l]; x = d*sc*q - dmin*m per 16-value sub-block. */
    private static void decodeQ2K(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 84L * b;
            float d = f16(s, bo + 80), dmin = f16(s, bo + 82);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, bo + 16 + 32 * h + l, LE).convertShape(B2I, I, 0);
                    for (int j = 0; j < 4; j++) {
                        int sc = s.get(I8, bo + 8 * h + 2 * j + l / 16) & 0xFF;
                        FloatVector q = (FloatVector) v.lanewise(LSHR, 2 * j).and(3).convertShape(I2F, F, 0);
                        q.mul(d * (sc & 0xF)).sub(dmin * (sc >>> 4)).intoArray(dst, o + 256 * b + 128 * h + 32 * j + l);
                    }
                }
            }
        }
    }

    /** Q3_K: Q2_K's low bits plus hmask bit 4h+j (clear means -4); x = d*(s-32)*q. */
    private static void decodeQ3K(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 110L * b;
            float d = f16(s, bo + 108);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, bo + 32 + 32 * h + l, LE).convertShape(B2I, I, 0);
                    IntVector hm = ((IntVector) ByteVector.fromMemorySegment(B, s, bo + l, LE).convertShape(B2I, I, 0)).lanewise(LSHL, 2);
                    for (int j = 0; j < 4; j++) {
                        int sc = LowBitKQuants.q3Scale(s, bo + 96, 8 * h + 2 * j + l / 16);
                        IntVector q = v.lanewise(LSHR, 2 * j).and(3).or(hm.lanewise(LSHR, 4 * h + j).and(4)).sub(4);
                        ((FloatVector) q.convertShape(I2F, F, 0)).mul(d * (sc - 32)).intoArray(dst, o + 256 * b + 128 * h + 32 * j + l);
                    }
                }
            }
        }
    }

    private static void decodeQ6K(GGMLType type, MemorySegment s, long at, int cols, int nb, float[] dst, int o) {
        for (int b = 0; b < nb; b++) {
            long bo = at + 210L * b;
            long ql = bo, qh = bo + 128, sc = bo + 192;
            float d = f16(s, bo + 208);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    ByteVector va = ByteVector.fromMemorySegment(B, s, ql + 64 * h + l, LE);
                    ByteVector vb = ByteVector.fromMemorySegment(B, s, ql + 64 * h + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, s, qh + 32 * h + l, LE);
                    ByteVector q1 = va.and((byte) 0xF).or(hb.and((byte) 3).lanewise(LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = vb.and((byte) 0xF).or(hb.and((byte) 0xC).lanewise(LSHL, 2)).sub((byte) 32);
                    ByteVector q3 = va.lanewise(LSHR, 4).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = vb.lanewise(LSHR, 4).or(hb.lanewise(LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    int is = 8 * h + l / 16;
                    int xo = o + 256 * b + 128 * h + l;
                    ((FloatVector) q1.convertShape(B2F, F, 0)).mul(d * s.get(I8, sc + is)).intoArray(dst, xo);
                    ((FloatVector) q2.convertShape(B2F, F, 0)).mul(d * s.get(I8, sc + is + 2)).intoArray(dst, xo + 32);
                    ((FloatVector) q3.convertShape(B2F, F, 0)).mul(d * s.get(I8, sc + is + 4)).intoArray(dst, xo + 64);
                    ((FloatVector) q4.convertShape(B2F, F, 0)).mul(d * s.get(I8, sc + is + 6)).intoArray(dst, xo + 96);
                }
            }
        }
    }
}
