package dev.gearbox.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hand-built Q2_K and Q3_K blocks must decode to the values GGML's layout defines (as
 * {@link QuantizerLayoutTest} does for the other types), and every decoder of these types (the
 * reference dequantizer, the prefill row decoder, the decode dot kernel) must agree on them.
 */
class LowBitLayoutTest {

    private static float[] decode(GGMLType type, byte[] bytes) {
        float[] out = new float[256];
        Quantizer.dequantize(type, MemorySegment.ofArray(bytes), out, 0, 256);
        return out;
    }

    @Test
    void q2_K() {
        byte[] b = new byte[84];
        for (int i = 0; i < 16; i++) b[i] = (byte) (i | (15 - i) << 4); // sub-block i: scale i, min 15-i
        for (int k = 0; k < 64; k++) b[16 + k] = (byte) (k * 7 + 3);
        b[80] = 0x00; b[81] = 0x3C; // d = 1
        b[82] = 0x00; b[83] = 0x38; // dmin = 0.5
        float[] v = decode(GGMLType.Q2_K, b);
        for (int k = 0; k < 256; k++) {
            int h = k / 128, j = (k % 128) / 32, l = k % 32, sub = k / 16;
            int q = (((32 * h + l) * 7 + 3) & 0xFF) >> (2 * j) & 3;
            assertThat(v[k]).as("value %d", k).isEqualTo(1f * sub * q - 0.5f * (15 - sub));
        }
        assertThat(v[0]).isEqualTo(-7.5f);  // qs[0] = 3 -> q 3, but scale 0; min 15
        assertThat(v[33]).isEqualTo(-2.5f); // qs[1] = 10 -> bits 2-3 = 2; scale 2, min 13
        sameInEveryDecoder(GGMLType.Q2_K, b, v);
    }

    /** Sixteen 6-bit scales and their 12 packed bytes, worked out by hand from GGML's layout. */
    private static final int[] S = {0, 1, 31, 32, 33, 63, 5, 40, 16, 48, 2, 62, 47, 17, 32, 60};
    private static final int[] PACKED = {0x00, 0x01, 0x2F, 0xE0, 0xF1, 0x1F, 0x05, 0xC8, 0x98, 0x7C, 0x81, 0xFA};

    @Test
    void q3_K() {
        byte[] b = new byte[110];
        for (int l = 0; l < 32; l++) b[l] = (byte) (l * 29 + 7);          // hmask
        for (int k = 0; k < 64; k++) b[32 + k] = (byte) (k * 11 + 5);    // qs
        for (int i = 0; i < 12; i++) b[96 + i] = (byte) PACKED[i];
        b[108] = 0x00; b[109] = 0x34; // d = 0.25
        float[] v = decode(GGMLType.Q3_K, b);
        for (int k = 0; k < 256; k++) {
            int h = k / 128, j = (k % 128) / 32, l = k % 32;
            int low = (((32 * h + l) * 11 + 5) & 0xFF) >> (2 * j) & 3;
            int high = ((l * 29 + 7) & 0xFF) >> (4 * h + j) & 1;
            int q = high == 1 ? low : low - 4;
            assertThat(v[k]).as("value %d", k).isEqualTo(0.25f * (S[k / 16] - 32) * q);
        }
        assertThat(v[0]).isEqualTo(-8f);      // hmask bit set, qs[0] = 5 -> q 1; scale 0 - 32
        assertThat(v[200]).isEqualTo(11.25f); // hmask[8] bit 6 set, qs[40] = 189 -> bits 4-5 = 3; scale 47 - 32
        for (int i = 0; i < 16; i++) assertThat(LowBitKQuants.q3Scale(MemorySegment.ofArray(b), 96, i)).isEqualTo(S[i]);
        sameInEveryDecoder(GGMLType.Q3_K, b, v);
    }

    /**
     * A block of each type written by llama.cpp's llama-quantize (--pure, from a random F32 model),
     * with values of llama.cpp's own dequantization of it (its F32 re-quantization of the file):
     * seven values bit for bit, and the sum of all 256 in order. Over whole files every value
     * matched bit for bit; this keeps a small piece of that check without needing llama.cpp.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Q2_K|cc9f6b4bfd9f497c8c8a6b7b8a8a7b67757b18ab39313ae76b5bf729cdb665b761a75141d4519514966011711d96956aaebb74486615e6b666385a4522b77abb8a8dda61062462f6a6ade396f5a906672618851c"
            + "|-0.05054473876953125|bceac000 bcd8f000 3c51a000 3c9a1000 3baa8000 3d134000 bd10a000",
        "Q3_K|5e5de881fcae7c71f9c197acf076da579b829f6f376f77fff4cbffbbedc63578120998ba9d59977d3adf118b42d335d524b064760358d0c2de379a4582c18c3b90ffa55a45e306f246e9bd07d9a329ab1c53acdf410099aa15078f75a24f199678da766bb08b3526000fff7fc18f"
            + "|0.011831521987915039|bcba1800 bcaa9600 3c782000 3c22d500 3c135300 3cffe100 bd0b9200",
    })
    void llamaCppBlocks(GGMLType type, String hex, double sum, String bits) {
        byte[] b = java.util.HexFormat.of().parseHex(hex);
        assertThat(b).hasSize(type.typeSize());
        float[] v = decode(type, b);
        String[] want = bits.split(" ");
        for (int i = 0; i < want.length; i++) {
            assertThat(Integer.toHexString(Float.floatToRawIntBits(v[37 * i]))).as("%s value %d", type, 37 * i).isEqualTo(want[i]);
        }
        double got = 0;
        for (float x : v) got += x;
        assertThat(got).isEqualTo(sum);
        sameInEveryDecoder(type, b, v);
    }

    /** Two rows (the block, then the block again) through the prefill and decode kernels. */
    private static void sameInEveryDecoder(GGMLType type, byte[] block, float[] expected) {
        byte[] two = new byte[2 * block.length];
        System.arraycopy(block, 0, two, 0, block.length);
        System.arraycopy(block, 0, two, block.length, block.length);
        MemorySegment seg = MemorySegment.ofArray(two);
        float[] row = new float[256];
        RowDecoders.decode(type, seg, block.length, 256, row, 0);
        assertThat(row).containsExactly(expected);
        // One-hot activations pick single values out of the decode kernel; sums check the offsets.
        WeightMatrix w = new WeightMatrix(type, 2, 256, seg);
        float[] out = new float[2];
        for (int k : new int[] {0, 17, 100, 200, 255}) {
            float[] x = new float[256];
            x[k] = 1;
            Kernels.matmul(w, x, 1, out);
            // Q3_K's kernel takes its -4 off through the sum of x, which may round differently by an ulp.
            assertThat(out[1]).as("%s value %d", type, k).isCloseTo(expected[k], org.assertj.core.data.Offset.offset(1e-6f * Math.max(1f, Math.abs(expected[k]))));
        }
        float[] ones = new float[256];
        java.util.Arrays.fill(ones, 1f);
        Kernels.matmul(w, ones, 1, out);
        double sum = 0;
        for (float e : expected) sum += e;
        assertThat((double) out[0]).isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-3 * (1 + Math.abs(sum))));
    }
}
