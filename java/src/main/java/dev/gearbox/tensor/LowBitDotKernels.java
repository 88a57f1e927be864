package dev.gearbox.tensor;

import static dev.gearbox.tensor.DotKernels.B;
import static dev.gearbox.tensor.DotKernels.F;
import static dev.gearbox.tensor.DotKernels.I;
import static dev.gearbox.tensor.DotKernels.L;
import static dev.gearbox.tensor.DotKernels.LE;
import static dev.gearbox.tensor.DotKernels.f16;
import static dev.gearbox.tensor.DotKernels.sumLanes;
import static dev.gearbox.tensor.Quantizer.I32;
import static jdk.incubator.vector.VectorOperators.B2I;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * Decode (matrix-vector) kernels for Q2_K and Q3_K ({@link LowBitKQuants} has the layouts), in
 * the style of {@link DotKernels}: bytes are widened to int lanes before the 2-bit fields are
 * shifted out, and each 16-value sub-block's products are scaled by one broadcast FMA.
 *
 * <p>Both types shift their quants by a per-sub-block constant (Q2_K's min, Q3_K's -4), which
 * is applied once per sub-block through the sums of x over 16 values ({@link #subBlockSums}):
 * dot(a*q + c, x) = a*dot(q, x) + c*sum(x). That keeps the offset out of the vector loop.
 */
final class LowBitDotKernels {
    private LowBitDotKernels() {}

    /** Per Q3_K scale i: whether its low nibble is in scale word 1 (else 0), and the bit shifts. */
    private static final boolean[] Q3_FROM_W1 = new boolean[16];
    private static final int[] Q3_LO_SHIFT = new int[16], Q3_HI_SHIFT = new int[16];
    static {
        for (int i = 0; i < 16; i++) {
            Q3_FROM_W1[i] = (i & 4) != 0;
            Q3_LO_SHIFT[i] = 8 * (i & 3) + 4 * (i >>> 3);
            Q3_HI_SHIFT[i] = 8 * (i & 3) + 2 * (i >>> 2);
        }
    }

    /** Sum of each 16 consecutive values of x[0, cols), added in a fixed order. */
    static float[] subBlockSums(float[] x, int cols) {
        float[] sums = new float[cols / 16];
        for (int b = 0; b < sums.length; b++) {
            FloatVector v = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) v = v.add(FloatVector.fromArray(F, x, 16 * b + j));
            sums[b] = DotKernels.sum(v);
        }
        return sums;
    }

    /**
     * tmp[0, L): lane sums; tmp[16, 32): the block's sixteen d*scale values. The scales and the
     * min term are worked out in vectors too: done in scalar code, the min sum was a chain of 16
     * dependent adds per block and made Q2_K slower than Q3_K.
     */
    static float dotQ2_K(MemorySegment s, long at, float[] x, float[] xs, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), mins = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long bo = at + 84L * b;
            float d = f16(s, bo + 80), dmin = f16(s, bo + 82);
            for (int i = 0; i < 16; i += L) {
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B, s, bo + i, LE).convertShape(B2I, I, 0);
                ((FloatVector) sc.and(0xF).convertShape(I2F, F, 0)).mul(d).intoArray(tmp, 16 + i);
                FloatVector m = ((FloatVector) sc.lanewise(LSHR, 4).and(0xF).convertShape(I2F, F, 0)).mul(dmin);
                mins = m.fma(FloatVector.fromArray(F, xs, 16 * b + i), mins);
            }
            int xb = 256 * b;
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, bo + 16 + 32 * h + l, LE).convertShape(B2I, I, 0);
                    int is = 16 + 8 * h + l / 16;
                    int xo = xb + 128 * h + l;
                    FloatVector p0 = ((FloatVector) v.and(3).convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo));
                    FloatVector p1 = ((FloatVector) v.lanewise(LSHR, 2).and(3).convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 32));
                    FloatVector p2 = ((FloatVector) v.lanewise(LSHR, 4).and(3).convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 64));
                    FloatVector p3 = ((FloatVector) v.lanewise(LSHR, 6).and(3).convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 96));
                    a0 = p0.fma(FloatVector.broadcast(F, tmp[is]), a0);
                    a1 = p1.fma(FloatVector.broadcast(F, tmp[is + 2]), a1);
                    a0 = p2.fma(FloatVector.broadcast(F, tmp[is + 4]), a0);
                    a1 = p3.fma(FloatVector.broadcast(F, tmp[is + 6]), a1);
                }
            }
        }
        a0.add(a1).sub(mins).intoArray(tmp, 0);
        return sumLanes(tmp);
    }

    /**
     * Q3_K with q taken as low2 | hbit &lt;&lt; 2 (0..7) in the loop; the format's -4 comes off
     * afterwards through the sub-block sums of x. tmp as for {@link #dotQ2_K}. The sixteen 6-bit
     * scales are unpacked in vectors from three 32-bit words ({@link LowBitKQuants#q3Scale} has
     * the layout): lane i takes its low nibble from word 0 or 1 and its top two bits from word 2.
     */
    static float dotQ3_K(MemorySegment s, long at, float[] x, float[] xs, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), offset = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long bo = at + 110L * b;
            IntVector w0 = IntVector.broadcast(I, s.get(I32, bo + 96)), w1 = IntVector.broadcast(I, s.get(I32, bo + 100));
            IntVector w2 = IntVector.broadcast(I, s.get(I32, bo + 104));
            float d = f16(s, bo + 108);
            for (int i = 0; i < 16; i += L) {
                IntVector lo = w0.blend(w1, VectorMask.fromArray(I, Q3_FROM_W1, i)).lanewise(LSHR, IntVector.fromArray(I, Q3_LO_SHIFT, i)).and(0xF);
                IntVector hi = w2.lanewise(LSHR, IntVector.fromArray(I, Q3_HI_SHIFT, i)).and(3);
                FloatVector sc = ((FloatVector) lo.or(hi.lanewise(LSHL, 4)).sub(32).convertShape(I2F, F, 0)).mul(d);
                sc.intoArray(tmp, 16 + i);
                offset = sc.fma(FloatVector.fromArray(F, xs, 16 * b + i), offset);
            }
            int xb = 256 * b;
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, bo + 32 + 32 * h + l, LE).convertShape(B2I, I, 0);
                    // hmask bit 4h+j moved to bit 2 of the quant: shift left 2 once, right by 4h+j per
                    // group (only bits 0-7 are picked, so the sign extension of B2I does not matter).
                    IntVector hm = ((IntVector) ByteVector.fromMemorySegment(B, s, bo + l, LE).convertShape(B2I, I, 0)).lanewise(LSHL, 2);
                    int is = 16 + 8 * h + l / 16;
                    int xo = xb + 128 * h + l, hs = 4 * h;
                    IntVector q0 = v.and(3).or(hm.lanewise(LSHR, hs).and(4));
                    IntVector q1 = v.lanewise(LSHR, 2).and(3).or(hm.lanewise(LSHR, hs + 1).and(4));
                    IntVector q2 = v.lanewise(LSHR, 4).and(3).or(hm.lanewise(LSHR, hs + 2).and(4));
                    IntVector q3 = v.lanewise(LSHR, 6).and(3).or(hm.lanewise(LSHR, hs + 3).and(4));
                    FloatVector p0 = ((FloatVector) q0.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo));
                    FloatVector p1 = ((FloatVector) q1.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 32));
                    FloatVector p2 = ((FloatVector) q2.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 64));
                    FloatVector p3 = ((FloatVector) q3.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 96));
                    a0 = p0.fma(FloatVector.broadcast(F, tmp[is]), a0);
                    a1 = p1.fma(FloatVector.broadcast(F, tmp[is + 2]), a1);
                    a0 = p2.fma(FloatVector.broadcast(F, tmp[is + 4]), a0);
                    a1 = p3.fma(FloatVector.broadcast(F, tmp[is + 6]), a1);
                }
            }
        }
        a0.add(a1).sub(offset.mul(4)).intoArray(tmp, 0);
        return sumLanes(tmp);
    }
}
