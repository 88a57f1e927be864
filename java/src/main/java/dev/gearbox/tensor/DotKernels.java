package dev.gearbox.tensor;

import static dev.gearbox.tensor.Quantizer.I16;
import static dev.gearbox.tensor.Quantizer.I32;
import static dev.gearbox.tensor.Quantizer.I8;
import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.B2I;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.S2I;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused matrix-vector kernels, one per weight type: each reads a row's blocks from the segment,
 * widens the quantized values to L float lanes (L = 16 with AVX-512, 8 with AVX2), multiplies
 * them into x and applies the block scale once per block. Two accumulators alternate between
 * blocks so consecutive FMAs do not wait on each other.
 *
 * <p>Packed fields are unpacked after widening the bytes to int lanes: x86 has no byte shifts
 * (C2 emulates them with several instructions), while int shifts and masks are one each; this
 * made the nibble and K-quant kernels 15-25% faster than working on byte lanes.
 *
 * <p>Offsets (Q4_0's -8, Q4_1, Q4_K, Q5_K mins) are applied through per-32-value sums of x, computed once per
 * call: dot(d*q + m, x) = d*dot(q, x) + m*sum(x), which keeps the min out of the inner loop.
 */
final class DotKernels {
    private DotKernels() {}

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Float lanes per vector: 16 or 8; narrower machines use the scalar fallback. */
    static final VectorSpecies<Float> F;
    static final VectorSpecies<Byte> B;
    static final VectorSpecies<Short> S;
    static final VectorSpecies<Integer> I;
    static final int L;
    static final boolean VECTOR;

    static {
        int pref = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        int bits = Integer.getInteger("gearbox.vectorBits", pref);
        bits = Math.min(Math.min(bits, pref), 512);
        VECTOR = bits >= 256;
        bits = VECTOR ? bits : 256;
        F = FloatVector.SPECIES_512.vectorBitSize() == bits ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
        L = F.length();
        B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
        S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
        I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    }

    /** Bit shifts 0, 1, ..., 31 for picking the fifth bits of Q5_0 lanes. */
    private static final int[] IOTA32 = new int[32];
    static {
        for (int i = 0; i < 32; i++) IOTA32[i] = i;
    }

    private static final VectorShuffle<Float> FOLD8 = VectorShuffle.fromOp(F, i -> i ^ 8);
    private static final VectorShuffle<Float> FOLD4 = VectorShuffle.fromOp(F, i -> i ^ 4);
    private static final VectorShuffle<Float> FOLD2 = VectorShuffle.fromOp(F, i -> i ^ 2);
    private static final VectorShuffle<Float> FOLD1 = VectorShuffle.fromOp(F, i -> i ^ 1);

    /**
     * Sum of the lanes in a fixed pairwise order. {@code reduceLanes(ADD)} may add in a different
     * order before and after the JIT compiles a method, which made results depend on timing (and
     * so on the thread count); this tree of lanewise adds is bit-identical in every mode. It is
     * straight-line code (no loop over the shuffles) so C2 keeps the vector in registers.
     */
    static float sum(FloatVector v) {
        if (L == 16) v = v.add(v.rearrange(FOLD8));
        v = v.add(v.rearrange(FOLD4));
        v = v.add(v.rearrange(FOLD2));
        v = v.add(v.rearrange(FOLD1));
        return v.lane(0);
    }

    /**
     * Sums {@code t[0, L)} pairwise in a fixed order, destroying it. The kernels spill their
     * accumulator here instead of calling a vector-taking helper: C2 stops inlining in the large
     * K-quant kernels, and a non-inlined call with a vector argument allocates a box per row.
     */
    static float sumLanes(float[] t) {
        for (int h = L / 2; h > 0; h >>= 1) {
            for (int i = 0; i < h; i++) t[i] += t[i + h];
        }
        return t[0];
    }

    static void matvec(WeightMatrix w, float[] x, float[] out) {
        MemorySegment s = w.data();
        int cols = w.cols();
        long rb = w.rowBytes();
        GGMLType type = w.type();
        float[] xs = switch (type) {
            case Q4_0, Q4_1, Q4_K, Q5_K -> blockSums(x, cols);
            case Q2_K, Q3_K -> LowBitDotKernels.subBlockSums(x, cols);
            default -> null;
        };
        int nb = cols / type.blockSize();
        int grain = Math.max(1, (int) (16384 / Math.max(1, rb))); // at least ~16 KB of weights per chunk
        Parallel.forRange(w.rows(), grain, (r0, r1) -> {
            float[] tmp = new float[32]; // [0, L): lane sums; [16, 32): K-quant scales
            switch (type) {
                case F32 -> { for (int r = r0; r < r1; r++) out[r] = dotF32(s, r * rb, x, cols, tmp); }
                case F16 -> { for (int r = r0; r < r1; r++) out[r] = dotF16(s, r * rb, x, cols, tmp); }
                case BF16 -> { for (int r = r0; r < r1; r++) out[r] = dotBF16(s, r * rb, x, cols, tmp); }
                case Q8_0 -> { for (int r = r0; r < r1; r++) out[r] = dotQ8_0(s, r * rb, x, nb, tmp); }
                case Q4_0 -> { for (int r = r0; r < r1; r++) out[r] = dotQ4_0(s, r * rb, x, xs, nb, tmp); }
                case Q4_1 -> { for (int r = r0; r < r1; r++) out[r] = dotQ4_1(s, r * rb, x, xs, nb, tmp); }
                case Q5_0 -> { for (int r = r0; r < r1; r++) out[r] = dotQ5_0(s, r * rb, x, nb, tmp); }
                case Q2_K -> { for (int r = r0; r < r1; r++) out[r] = LowBitDotKernels.dotQ2_K(s, r * rb, x, xs, nb, tmp); }
                case Q3_K -> { for (int r = r0; r < r1; r++) out[r] = LowBitDotKernels.dotQ3_K(s, r * rb, x, xs, nb, tmp); }
                case Q4_K -> { for (int r = r0; r < r1; r++) out[r] = dotQ4_K(s, r * rb, x, xs, nb, tmp); }
                case Q5_K -> { for (int r = r0; r < r1; r++) out[r] = dotQ5_K(s, r * rb, x, xs, nb, tmp); }
                case Q6_K -> { for (int r = r0; r < r1; r++) out[r] = dotQ6_K(s, r * rb, x, nb, tmp); }
                default -> throw new UnsupportedOperationException("no kernel for " + type);
            }
        });
    }

    /** Sum of each 32 consecutive values of x[0, cols). */
    static float[] blockSums(float[] x, int cols) {
        float[] sums = new float[cols / 32];
        for (int b = 0; b < sums.length; b++) {
            FloatVector v = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) v = v.add(FloatVector.fromArray(F, x, 32 * b + j));
            sums[b] = sum(v);
        }
        return sums;
    }

    static float f16(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(I16, at));
    }

    // ---- float formats ----------------------------------------------------------------------

    static float dotF32(MemorySegment s, long at, float[] x, int cols, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            a0 = FloatVector.fromMemorySegment(F, s, at + 4L * c, LE).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = FloatVector.fromMemorySegment(F, s, at + 4L * (c + L), LE).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        a0.add(a1).intoArray(tmp, 0);
        float sum = sumLanes(tmp);
        for (; c < cols; c++) sum += s.get(Quantizer.F32, at + 4L * c) * x[c];
        return sum;
    }

    /**
     * L halves at {@code at} as floats. Normal and subnormal halves: shifting the 15 magnitude
     * bits into a float's exponent/mantissa position and multiplying by 2^112 rebias the exponent
     * exactly (subnormals become normal floats); Inf/NaN (exponent 31) are patched separately.
     */
    static FloatVector halfs(MemorySegment s, long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, at, LE).convertShape(S2I, I, 0);
        IntVector mag = h.and(0x7FFF).lanewise(LSHL, 13);
        IntVector bits = ((FloatVector) mag.reinterpretShape(F, 0)).mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7C00 << 13);
        bits = bits.blend(mag.or(0x7F800000), special);
        return (FloatVector) bits.or(h.and(0x8000).lanewise(LSHL, 16)).reinterpretShape(F, 0);
    }

    static FloatVector bhalfs(MemorySegment s, long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, at, LE).convertShape(S2I, I, 0);
        return (FloatVector) h.lanewise(LSHL, 16).reinterpretShape(F, 0);
    }

    static float dotF16(MemorySegment s, long at, float[] x, int cols, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            a0 = halfs(s, at + 2L * c).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = halfs(s, at + 2L * (c + L)).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        a0.add(a1).intoArray(tmp, 0);
        float sum = sumLanes(tmp);
        for (; c < cols; c++) sum += Float.float16ToFloat(s.get(I16, at + 2L * c)) * x[c];
        return sum;
    }

    static float dotBF16(MemorySegment s, long at, float[] x, int cols, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * L <= cols; c += 2 * L) {
            a0 = bhalfs(s, at + 2L * c).fma(FloatVector.fromArray(F, x, c), a0);
            a1 = bhalfs(s, at + 2L * (c + L)).fma(FloatVector.fromArray(F, x, c + L), a1);
        }
        a0.add(a1).intoArray(tmp, 0);
        float sum = sumLanes(tmp);
        for (; c < cols; c++) sum += Quantizer.bf16ToFloat(s.get(I16, at + 2L * c)) * x[c];
        return sum;
    }

    // ---- 32-value blocks --------------------------------------------------------------------

    /** dot(q, x) of one Q8_0 block, unscaled. */
    private static FloatVector q8_0(MemorySegment s, long bo, float[] x, int xb) {
        FloatVector p = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2, LE).convertShape(B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
        for (int j = L; j < 32; j += L) {
            p = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE).convertShape(B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + j), p);
        }
        return p;
    }

    static float dotQ8_0(MemorySegment s, long at, float[] x, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long bo = at + 34L * b;
            float d0 = f16(s, bo), d1 = f16(s, bo + 34);
            a0 = q8_0(s, bo, x, 32 * b).fma(FloatVector.broadcast(F, d0), a0);
            a1 = q8_0(s, bo + 34, x, 32 * b + 32).fma(FloatVector.broadcast(F, d1), a1);
        }
        if (b < nb) a0 = q8_0(s, at + 34L * b, x, 32 * b).fma(FloatVector.broadcast(F, f16(s, at + 34L * b)), a0);
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp);
    }

    /**
     * dot(q, x) of one Q4_0 block's unsigned nibbles (q at {@code qs}), unscaled. The bytes are
     * widened to int lanes first: x86 has no byte shifts (C2 emulates them with three
     * instructions), while the int shift, mask and int-to-float conversion are one each. The -8
     * offset is applied once per block through the block sum of x.
     */
    private static FloatVector q4_0(MemorySegment s, long qs, float[] x, int xb) {
        FloatVector p = FloatVector.zero(F);
        for (int j = 0; j < 16; j += L) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, qs + j, LE).convertShape(B2I, I, 0);
            FloatVector lo = (FloatVector) v.and(0xF).convertShape(I2F, F, 0);
            FloatVector hi = (FloatVector) v.lanewise(LSHR, 4).and(0xF).convertShape(I2F, F, 0);
            p = lo.fma(FloatVector.fromArray(F, x, xb + j), p);
            p = hi.fma(FloatVector.fromArray(F, x, xb + 16 + j), p);
        }
        return p;
    }

    static float dotQ4_0(MemorySegment s, long at, float[] x, float[] xs, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        float offset = 0;
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long bo = at + 18L * b;
            float d0 = f16(s, bo), d1 = f16(s, bo + 18);
            a0 = q4_0(s, bo + 2, x, 32 * b).fma(FloatVector.broadcast(F, d0), a0);
            a1 = q4_0(s, bo + 20, x, 32 * b + 32).fma(FloatVector.broadcast(F, d1), a1);
            offset += d0 * xs[b] + d1 * xs[b + 1];
        }
        if (b < nb) {
            float d0 = f16(s, at + 18L * b);
            a0 = q4_0(s, at + 18L * b + 2, x, 32 * b).fma(FloatVector.broadcast(F, d0), a0);
            offset += d0 * xs[b];
        }
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp) - 8 * offset;
    }

    /** dot(q, x) of 32 nibbles (low nibbles first, then high), unsigned and unscaled. */
    private static FloatVector nibbles(MemorySegment s, long qs, float[] x, int xb) {
        FloatVector p = FloatVector.zero(F);
        for (int j = 0; j < 16; j += L) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, qs + j, LE).convertShape(B2I, I, 0);
            p = ((FloatVector) v.and(0xF).convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + j), p);
            p = ((FloatVector) v.lanewise(LSHR, 4).and(0xF).convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 + j), p);
        }
        return p;
    }

    static float dotQ4_1(MemorySegment s, long at, float[] x, float[] xs, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        float mins = 0;
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long bo = at + 20L * b;
            a0 = nibbles(s, bo + 4, x, 32 * b).fma(FloatVector.broadcast(F, f16(s, bo)), a0);
            a1 = nibbles(s, bo + 24, x, 32 * b + 32).fma(FloatVector.broadcast(F, f16(s, bo + 20)), a1);
            mins += f16(s, bo + 2) * xs[b] + f16(s, bo + 22) * xs[b + 1];
        }
        if (b < nb) {
            long bo = at + 20L * b;
            a0 = nibbles(s, bo + 4, x, 32 * b).fma(FloatVector.broadcast(F, f16(s, bo)), a0);
            mins += f16(s, bo + 2) * xs[b];
        }
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp) + mins;
    }

    /** Q5_0: the fifth bit of value j is bit j of the 32-bit qh; widened to int lanes to pick it. */
    private static FloatVector q5_0(MemorySegment s, long bo, float[] x, int xb) {
        IntVector qh = IntVector.broadcast(I, s.get(I32, bo + 2));
        FloatVector p = FloatVector.zero(F);
        for (int j = 0; j < 16; j += L) {
            ByteVector v = ByteVector.fromMemorySegment(B, s, bo + 6 + j, LE);
            IntVector lo = (IntVector) v.and((byte) 0xF).convertShape(B2I, I, 0);
            IntVector hi = (IntVector) v.lanewise(LSHR, 4).convertShape(B2I, I, 0);
            IntVector hlo = qh.lanewise(LSHR, IntVector.fromArray(I, IOTA32, j)).and(1).lanewise(LSHL, 4);
            IntVector hhi = qh.lanewise(LSHR, IntVector.fromArray(I, IOTA32, 16 + j)).and(1).lanewise(LSHL, 4);
            p = ((FloatVector) lo.or(hlo).sub(16).convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + j), p);
            p = ((FloatVector) hi.or(hhi).sub(16).convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 + j), p);
        }
        return p;
    }

    static float dotQ5_0(MemorySegment s, long at, float[] x, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long bo = at + 22L * b;
            a0 = q5_0(s, bo, x, 32 * b).fma(FloatVector.broadcast(F, f16(s, bo)), a0);
            a1 = q5_0(s, bo + 22, x, 32 * b + 32).fma(FloatVector.broadcast(F, f16(s, bo + 22)), a1);
        }
        if (b < nb) a0 = q5_0(s, at + 22L * b, x, 32 * b).fma(FloatVector.broadcast(F, f16(s, at + 22L * b)), a0);
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp);
    }

    // ---- 256-value K-quant super-blocks -----------------------------------------------------

    static float dotQ4_K(MemorySegment s, long at, float[] x, float[] xs, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long bo = at + 144L * b;
            KQuants.unpackScales(s, bo, tmp, 16);
            long qs = bo + 16;
            int xb = 256 * b;
            float m = 0;
            for (int c = 0; c < 4; c++) {
                FloatVector plo = FloatVector.zero(F), phi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, qs + 32 * c + j, LE).convertShape(B2I, I, 0);
                    plo = ((FloatVector) v.and(0xF).convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 64 * c + j), plo);
                    phi = ((FloatVector) v.lanewise(LSHR, 4).and(0xF).convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 64 * c + 32 + j), phi);
                }
                a0 = plo.fma(FloatVector.broadcast(F, tmp[16 + 2 * c]), a0);
                a1 = phi.fma(FloatVector.broadcast(F, tmp[17 + 2 * c]), a1);
                m += tmp[24 + 2 * c] * xs[8 * b + 2 * c] + tmp[25 + 2 * c] * xs[8 * b + 2 * c + 1];
            }
            mins += m;
        }
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp) - mins;
    }

    static float dotQ5_K(MemorySegment s, long at, float[] x, float[] xs, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long bo = at + 176L * b;
            KQuants.unpackScales(s, bo, tmp, 16);
            long qh = bo + 16, qs = bo + 48;
            int xb = 256 * b;
            float m = 0;
            for (int c = 0; c < 4; c++) {
                FloatVector plo = FloatVector.zero(F), phi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, qs + 32 * c + j, LE).convertShape(B2I, I, 0);
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, s, qh + j, LE).convertShape(B2I, I, 0)).lanewise(LSHR, 2 * c);
                    IntVector lo = v.and(0xF).or(h.and(1).lanewise(LSHL, 4));
                    IntVector hi = v.lanewise(LSHR, 4).and(0xF).or(h.and(2).lanewise(LSHL, 3));
                    plo = ((FloatVector) lo.convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 64 * c + j), plo);
                    phi = ((FloatVector) hi.convertShape(I2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 64 * c + 32 + j), phi);
                }
                a0 = plo.fma(FloatVector.broadcast(F, tmp[16 + 2 * c]), a0);
                a1 = phi.fma(FloatVector.broadcast(F, tmp[17 + 2 * c]), a1);
                m += tmp[24 + 2 * c] * xs[8 * b + 2 * c] + tmp[25 + 2 * c] * xs[8 * b + 2 * c + 1];
            }
            mins += m;
        }
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp) - mins;
    }

    static float dotQ6_K(MemorySegment s, long at, float[] x, int nb, float[] tmp) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long bo = at + 210L * b;
            long ql = bo, qh = bo + 128, sc = bo + 192;
            float d = f16(s, bo + 208);
            int xb = 256 * b;
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector va = (IntVector) ByteVector.fromMemorySegment(B, s, ql + 64 * h + l, LE).convertShape(B2I, I, 0);
                    IntVector vb = (IntVector) ByteVector.fromMemorySegment(B, s, ql + 64 * h + 32 + l, LE).convertShape(B2I, I, 0);
                    IntVector hb = (IntVector) ByteVector.fromMemorySegment(B, s, qh + 32 * h + l, LE).convertShape(B2I, I, 0);
                    IntVector q1 = va.and(0xF).or(hb.and(3).lanewise(LSHL, 4)).sub(32);
                    IntVector q2 = vb.and(0xF).or(hb.and(0xC).lanewise(LSHL, 2)).sub(32);
                    IntVector q3 = va.lanewise(LSHR, 4).and(0xF).or(hb.and(0x30)).sub(32);
                    IntVector q4 = vb.lanewise(LSHR, 4).and(0xF).or(hb.lanewise(LSHR, 2).and(0x30)).sub(32);
                    int is = 8 * h + l / 16;
                    int xo = xb + 128 * h + l;
                    FloatVector p1 = ((FloatVector) q1.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo));
                    FloatVector p2 = ((FloatVector) q2.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 32));
                    FloatVector p3 = ((FloatVector) q3.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 64));
                    FloatVector p4 = ((FloatVector) q4.convertShape(I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + 96));
                    a0 = p1.fma(FloatVector.broadcast(F, d * s.get(I8, sc + is)), a0);
                    a1 = p2.fma(FloatVector.broadcast(F, d * s.get(I8, sc + is + 2)), a1);
                    a0 = p3.fma(FloatVector.broadcast(F, d * s.get(I8, sc + is + 4)), a0);
                    a1 = p4.fma(FloatVector.broadcast(F, d * s.get(I8, sc + is + 6)), a1);
                }
            }
        }
        a0.add(a1).intoArray(tmp, 0);
        return sumLanes(tmp);
    }
}
