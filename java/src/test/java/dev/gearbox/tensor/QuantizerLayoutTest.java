package dev.gearbox.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Hand-built blocks with known bytes must decode to the values GGML's layout defines. Round
 * trips cannot catch a layout that is consistently wrong in both directions; these can.
 */
class QuantizerLayoutTest {

    private static float[] decode(GGMLType type, byte[] bytes, int count) {
        float[] out = new float[count];
        Quantizer.dequantize(type, MemorySegment.ofArray(bytes), out, 0, count);
        return out;
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    @Test
    void floatFormats() {
        assertThat(decode(GGMLType.F32, bytes(0, 0, 0xC0, 0x3F, 0, 0, 0x20, 0xC1), 2)).containsExactly(1.5f, -10f);
        // 1.0, -2.0, smallest subnormal 2^-24, +infinity, 65504 (largest half)
        assertThat(decode(GGMLType.F16, bytes(0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C, 0xFF, 0x7B), 5))
                .containsExactly(1f, -2f, 0x1p-24f, Float.POSITIVE_INFINITY, 65504f);
        assertThat(decode(GGMLType.BF16, bytes(0x80, 0x3F, 0x40, 0xC0), 2)).containsExactly(1f, -3f);
    }

    @Test
    void q8_0() {
        byte[] b = new byte[34];
        b[0] = 0x00; b[1] = 0x38; // fp16 0.5
        for (int j = 0; j < 32; j++) b[2 + j] = (byte) (j - 16);
        float[] v = decode(GGMLType.Q8_0, b, 32);
        for (int j = 0; j < 32; j++) assertThat(v[j]).isEqualTo(0.5f * (j - 16));
        assertThat(v[0]).isEqualTo(-8f);
    }

    @Test
    void q4_0() {
        byte[] b = new byte[18];
        b[0] = 0x00; b[1] = 0x40; // fp16 2.0
        for (int j = 0; j < 16; j++) b[2 + j] = (byte) (j | (15 - j) << 4);
        float[] v = decode(GGMLType.Q4_0, b, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(v[j]).as("low nibble %d", j).isEqualTo(2f * (j - 8));
            assertThat(v[16 + j]).as("high nibble %d", j).isEqualTo(2f * (7 - j));
        }
        assertThat(v[0]).isEqualTo(-16f);
        assertThat(v[16]).isEqualTo(14f);
    }

    @Test
    void q4_1() {
        byte[] b = new byte[20];
        b[0] = 0x00; b[1] = 0x3C; // d = 1
        b[2] = 0x00; b[3] = (byte) 0xBC; // m = -1
        for (int j = 0; j < 16; j++) b[4 + j] = (byte) (j | (15 - j) << 4);
        float[] v = decode(GGMLType.Q4_1, b, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(v[j]).isEqualTo(j - 1f);
            assertThat(v[16 + j]).isEqualTo(14f - j);
        }
    }

    @Test
    void q5_0() {
        byte[] b = new byte[22];
        b[0] = 0x00; b[1] = 0x3C; // d = 1
        int qh = 0xAAAA5555; // little-endian u32: bits of values 0..31
        b[2] = 0x55; b[3] = 0x55; b[4] = (byte) 0xAA; b[5] = (byte) 0xAA;
        for (int j = 0; j < 16; j++) b[6 + j] = (byte) (j | (15 - j) << 4);
        float[] v = decode(GGMLType.Q5_0, b, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(v[j]).isEqualTo((j | ((qh >>> j) & 1) << 4) - 16f);
            assertThat(v[16 + j]).isEqualTo(((15 - j) | ((qh >>> (16 + j)) & 1) << 4) - 16f);
        }
        assertThat(v[0]).isEqualTo(0f);   // nibble 0 + fifth bit 16 - 16
        assertThat(v[1]).isEqualTo(-15f); // nibble 1, no fifth bit
        assertThat(v[16]).isEqualTo(-1f); // nibble 15, bit 16 of qh is 0
        assertThat(v[17]).isEqualTo(14f); // nibble 14 + 16 - 16
    }

    // Scales and mins of the K-quant test block, and their 12 packed bytes worked out by hand.
    private static final int[] SC = {1, 2, 3, 4, 17, 32, 5, 63};
    private static final int[] MN = {0, 1, 2, 3, 16, 4, 48, 7};
    private static final int[] PACKED = {0x41, 0x82, 0x03, 0xC4, 0x40, 0x01, 0xC2, 0x03, 0x01, 0x40, 0x05, 0x7F};

    @Test
    void q4_K() {
        byte[] b = new byte[144];
        b[0] = 0x00; b[1] = 0x3C; // d = 1
        b[2] = 0x00; b[3] = 0x38; // dmin = 0.5
        for (int i = 0; i < 12; i++) b[4 + i] = (byte) PACKED[i];
        for (int i = 0; i < 128; i++) b[16 + i] = (byte) ((i % 16) | (15 - i % 16) << 4);
        float[] v = decode(GGMLType.Q4_K, b, 256);
        for (int k = 0; k < 256; k++) {
            int sub = k / 32, c = k / 64, l = k % 32;
            int qsByte = 32 * c + l;
            int q = (k % 64) < 32 ? qsByte % 16 : 15 - qsByte % 16;
            assertThat(v[k]).as("value %d", k).isEqualTo(1f * SC[sub] * q - 0.5f * MN[sub]);
        }
        assertThat(v[255]).isEqualTo(63f * 0 - 3.5f); // last sub-block: scale 63, min 7, q = 15 - 15
        assertThat(v[129]).isEqualTo(17f * 1 - 8f);   // sub-block 4: scale 17, min 16, q = 1
    }

    @Test
    void q5_K() {
        byte[] b = new byte[176];
        b[0] = 0x00; b[1] = 0x3C;
        b[2] = 0x00; b[3] = 0x38;
        for (int i = 0; i < 12; i++) b[4 + i] = (byte) PACKED[i];
        for (int l = 0; l < 32; l++) b[16 + l] = (byte) (l * 37 + 11);
        for (int i = 0; i < 128; i++) b[48 + i] = (byte) ((i % 16) | (15 - i % 16) << 4);
        float[] v = decode(GGMLType.Q5_K, b, 256);
        for (int k = 0; k < 256; k++) {
            int sub = k / 32, c = k / 64, l = k % 32;
            boolean high = (k % 64) >= 32;
            int qsByte = 32 * c + l;
            int q = high ? 15 - qsByte % 16 : qsByte % 16;
            int qhByte = (l * 37 + 11) & 0xFF;
            int bit = (qhByte >>> (2 * c + (high ? 1 : 0))) & 1;
            assertThat(v[k]).as("value %d", k).isEqualTo(1f * SC[sub] * (q + 16 * bit) - 0.5f * MN[sub]);
        }
        // value 0: qh[0] = 11 = 0b1011 -> bit 0 set -> q = 0 + 16; scale 1, min 0
        assertThat(v[0]).isEqualTo(16f);
        // value 32: bit 1 of qh[0] set -> q = 15 + 16 = 31; scale 2, min 1
        assertThat(v[32]).isEqualTo(2f * 31 - 0.5f);
    }

    @Test
    void q6_K() {
        byte[] b = new byte[210];
        for (int i = 0; i < 128; i++) b[i] = (byte) (i * 7 + 3);        // ql
        for (int i = 0; i < 64; i++) b[128 + i] = (byte) (i * 13 + 5);  // qh
        for (int i = 0; i < 16; i++) b[192 + i] = (byte) (i - 8);       // int8 scales
        b[208] = 0x00; b[209] = 0x34; // d = 0.25
        float[] v = decode(GGMLType.Q6_K, b, 256);
        for (int k = 0; k < 256; k++) {
            int h = k / 128, g = (k % 128) / 32, l = k % 32;
            int qlByte = ((64 * h + (g % 2 == 1 ? 32 : 0) + l) * 7 + 3) & 0xFF;
            int low = g < 2 ? qlByte & 0xF : qlByte >>> 4;
            int qhByte = ((32 * h + l) * 13 + 5) & 0xFF;
            int q = (low | ((qhByte >>> (2 * g)) & 3) << 4) - 32;
            assertThat(v[k]).as("value %d", k).isEqualTo(0.25f * (k / 16 - 8) * q);
        }
        // value 0: ql[0] = 3, qh[0] = 5 -> bits 0-1 = 1 -> q = 3 + 16 - 32 = -13; scale -8
        assertThat(v[0]).isEqualTo(0.25f * -8 * -13);
    }

    @Test
    void quantizeWritesTheSameLayout() {
        // A Q8_0 block of 0..31 * 0.5 must have d = amax/127 as fp16 and q = round(x/d).
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = 0.5f * j;
        byte[] b = Quantizer.quantize(GGMLType.Q8_0, x);
        float d = 15.5f / 127f;
        assertThat(MemorySegment.ofArray(b).get(Quantizer.I16, 0)).isEqualTo(Float.floatToFloat16(d));
        assertThat(b[2 + 31]).isEqualTo((byte) 127);
        assertThat(b[2 + 10]).isEqualTo((byte) Math.round(5f / d));
        // Q4_0 of a block whose largest magnitude is negative: d = max / -8 > 0, that value -> q 0.
        float[] y = new float[32];
        y[3] = -4f; y[20] = 2f;
        byte[] c = Quantizer.quantize(GGMLType.Q4_0, y);
        assertThat(Float.float16ToFloat(MemorySegment.ofArray(c).get(Quantizer.I16, 0))).isEqualTo(0.5f);
        assertThat(c[2 + 3] & 0xF).isEqualTo(0);        // -4 / 0.5 + 8
        assertThat((c[2 + 4] >>> 4) & 0xF).isEqualTo(12); // value 20 = 2 / 0.5 + 8, high nibble of byte 4
    }

    @Test
    void badInputIsRejectedWithAMessage() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Quantizer.quantize(GGMLType.Q4_K, new float[100]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block size");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Quantizer.dequantize(GGMLType.Q8_0, MemorySegment.ofArray(new byte[10]), new float[32], 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Quantizer.quantize(GGMLType.IQ2_XS, new float[256]))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("IQ2_XS");
    }
}
