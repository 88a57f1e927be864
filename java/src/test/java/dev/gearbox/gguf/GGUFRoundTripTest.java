package dev.gearbox.gguf;

import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GGUFRoundTripTest {
    @TempDir Path dir;

    /** One value of every scalar type at its extremes, and arrays of every element type, nested ones included. */
    static Map<String, GGUFValue> everyValueType() {
        Map<String, GGUFValue> m = new LinkedHashMap<>();
        m.put("u8.max", GGUFValue.u8(255));
        m.put("i8.min", GGUFValue.i8(-128));
        m.put("u16.max", GGUFValue.u16(65535));
        m.put("i16.min", GGUFValue.i16(-32768));
        m.put("u32.max", GGUFValue.u32(0xFFFFFFFFL));        // > 2^31: must not come back negative
        m.put("u32.big", GGUFValue.u32(3_000_000_000L));
        m.put("i32.min", GGUFValue.i32(Integer.MIN_VALUE));
        m.put("u64.max", GGUFValue.u64(-1L));                 // 2^64 - 1 as its bit pattern
        m.put("u64.2^63", GGUFValue.u64(Long.MIN_VALUE));
        m.put("i64.min", GGUFValue.i64(Long.MIN_VALUE));
        m.put("f32", GGUFValue.f32(-1.5e-7));
        m.put("f32.inf", GGUFValue.f32(Double.POSITIVE_INFINITY));
        m.put("f64", GGUFValue.f64(Math.PI));
        m.put("bool.t", GGUFValue.bool(true));
        m.put("bool.f", GGUFValue.bool(false));
        m.put("str", GGUFValue.string("héllo ▁wörld \u0000 🙂"));
        m.put("str.empty", GGUFValue.string(""));
        m.put("arr.u8", GGUFValue.ints(GGUFValueType.UINT8, 0, 1, 255));
        m.put("arr.i8", GGUFValue.ints(GGUFValueType.INT8, -128, 0, 127));
        m.put("arr.u16", GGUFValue.ints(GGUFValueType.UINT16, 0, 65535));
        m.put("arr.i16", GGUFValue.ints(GGUFValueType.INT16, -32768, 32767));
        m.put("arr.u32", GGUFValue.ints(GGUFValueType.UINT32, 0, 0xFFFFFFFFL));
        m.put("arr.i32", GGUFValue.ints(GGUFValueType.INT32, Integer.MIN_VALUE, Integer.MAX_VALUE));
        m.put("arr.u64", GGUFValue.ints(GGUFValueType.UINT64, 0, -1L));
        m.put("arr.i64", GGUFValue.ints(GGUFValueType.INT64, Long.MIN_VALUE, Long.MAX_VALUE));
        m.put("arr.f32", GGUFValue.f32s(new double[] {0.5, -2.25, Float.MAX_VALUE}));
        m.put("arr.f64", GGUFValue.array(GGUFValueType.FLOAT64, new double[] {Double.MIN_VALUE, 1e300}));
        m.put("arr.bool", GGUFValue.bools(true, false, true));
        m.put("arr.str", GGUFValue.strings("a", "", "▁the", "<0x0A>"));
        m.put("arr.empty", GGUFValue.ints(GGUFValueType.INT32));
        m.put("arr.nested", GGUFValue.arrays(
                GGUFValue.ints(GGUFValueType.INT32, 1, 2, 3),
                GGUFValue.strings("x", "y"),
                GGUFValue.arrays(GGUFValue.bools(true), GGUFValue.f32s(new double[] {1.0}))));
        return m;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void everyMetadataTypeRoundTrips(int version) throws IOException {
        GGUFWriter w = new GGUFWriter().version(version);
        everyValueType().forEach(w::put);
        float[] vals = {1, -2, 3.5f, 4, 5, 6, 7, 8};
        w.addTensor("a", GGMLType.F32, new long[] {4, 2}, Quantizer.quantize(GGMLType.F32, vals));
        w.addTensor("b", GGMLType.F16, new long[] {8}, Quantizer.quantize(GGMLType.F16, vals));
        Path p = dir.resolve("all.gguf");
        w.write(p);

        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.version()).isEqualTo(version);
            assertThat(f.alignment()).isEqualTo(32);
            assertThat(f.metadata().keySet()).containsExactlyElementsOf(everyValueType().keySet());
            everyValueType().forEach((k, v) -> assertThat(f.get(k).sameAs(v)).as(k + ": " + f.get(k) + " vs " + v).isTrue());
            assertThat(f.getLong("u32.max", 0)).isEqualTo(4294967295L);
            assertThat(f.getLong("u32.big", 0)).isEqualTo(3_000_000_000L);
            assertThat(f.get("u64.max").unsigned()).isEqualTo(new BigInteger("18446744073709551615"));
            assertThat(f.get("u64.max").toString()).isEqualTo("18446744073709551615");
            assertThat(f.get("arr.u64").elementToString(1)).isEqualTo("18446744073709551615");
            // A UINT64 above Long.MAX_VALUE must not be handed out as a negative long.
            assertThatThrownBy(() -> f.getLong("u64.max", 0)).isInstanceOf(GGUFFormatException.class)
                    .hasMessageContaining("u64.max").hasMessageContaining("18446744073709551615");
            assertThatThrownBy(() -> f.requireInt("u32.max", 0, Integer.MAX_VALUE)).isInstanceOf(GGUFFormatException.class)
                    .hasMessageContaining("4294967295").hasMessageContaining("at byte offset");
            assertThat(f.getBool("bool.t", false)).isTrue();
            assertThat(f.getString("str", null)).isEqualTo("héllo ▁wörld \u0000 🙂");

            TensorInfo a = f.tensor("a");
            assertThat(a.shape()).containsExactly(4, 2);
            assertThat(a.offset() % 32).isZero();
            float[] back = new float[8];
            Quantizer.dequantize(GGMLType.F32, f.data(a), back, 0, 8);
            assertThat(back).containsExactly(vals);
            Quantizer.dequantize(GGMLType.F16, f.data(f.tensor("b")), back, 0, 8);
            assertThat(back).containsExactly(vals);
            assertThat(f.dataOffset() % 32).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 8, 64, 4096})
    void nonDefaultAlignmentIsHonoured(long alignment) throws IOException {
        GGUFWriter w = new GGUFWriter().put("general.alignment", GGUFValue.u32(alignment));
        byte[] odd = Quantizer.quantize(GGMLType.BF16, new float[] {1, 2, 3}); // 6 bytes: the next tensor needs padding
        w.addTensor("odd", GGMLType.BF16, new long[] {3}, odd);
        w.addTensor("next", GGMLType.F32, new long[] {2}, Quantizer.quantize(GGMLType.F32, new float[] {7, 9}));
        Path p = dir.resolve("align.gguf");
        w.write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.alignment()).isEqualTo(alignment);
            assertThat(f.dataOffset() % alignment).isZero();
            assertThat(f.tensor("next").offset()).isEqualTo((6 + alignment - 1) / alignment * alignment); // 6 bytes, padded
            float[] back = new float[2];
            Quantizer.dequantize(GGMLType.F32, f.data(f.tensor("next")), back, 0, 2);
            assertThat(back).containsExactly(7, 9);
        }
    }

    @Test
    void tensorDataFromSegmentAndStreamMatchesByteArray() throws IOException {
        float[] vals = new float[1000];
        for (int i = 0; i < vals.length; i++) vals[i] = i * 0.25f - 3;
        byte[] bytes = Quantizer.quantize(GGMLType.F32, vals);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, native_, ValueLayout.JAVA_BYTE, 0, bytes.length);
            GGUFWriter w = new GGUFWriter()
                    .addTensor("from.bytes", GGMLType.F32, new long[] {1000}, bytes)
                    .addTensor("from.segment", GGMLType.F32, new long[] {1000}, native_)
                    .addTensor("from.stream", GGMLType.F32, new long[] {100, 10}, out -> {
                        for (int r = 0; r < 10; r++) out.write(bytes, r * 400, 400); // row by row
                    });
            Path p = dir.resolve("seg.gguf");
            w.write(p);
            try (GGUFFile f = GGUFFile.open(p)) {
                MemorySegment expected = MemorySegment.ofArray(bytes);
                for (String n : new String[] {"from.bytes", "from.segment", "from.stream"}) {
                    assertThat(f.data(f.tensor(n)).mismatch(expected)).as(n).isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void writerRejectsWhatTheReaderWouldNotGiveBack() {
        GGUFWriter w = new GGUFWriter();
        assertThatThrownBy(() -> w.put("k", GGUFValue.u32(-1))).hasMessageContaining("does not fit UINT32");
        assertThatThrownBy(() -> w.put("k", GGUFValue.u8(256))).hasMessageContaining("does not fit UINT8");
        assertThatThrownBy(() -> w.put("k", GGUFValue.ints(GGUFValueType.INT8, 200))).hasMessageContaining("INT8");
        assertThatThrownBy(() -> w.put("k", GGUFValue.array(GGUFValueType.STRING, new long[] {1}))).hasMessageContaining("STRING array");
        assertThatThrownBy(() -> w.version(1)).hasMessageContaining("2 or 3");
        w.addTensor("t", GGMLType.F32, new long[] {2}, new byte[8]);
        assertThatThrownBy(() -> w.addTensor("t", GGMLType.F32, new long[] {2}, new byte[8])).hasMessageContaining("duplicate tensor 't'");
        assertThatThrownBy(() -> w.addTensor("u", GGMLType.F32, new long[] {3}, new byte[8])).hasMessageContaining("needs 12 bytes");
        assertThatThrownBy(() -> w.addTensor("q", GGMLType.Q8_0, new long[] {16}, new byte[17])).hasMessageContaining("block size 32");
        GGUFWriter short_ = new GGUFWriter().addTensor("s", GGMLType.F32, new long[] {4}, out -> out.write(new byte[12]));
        assertThatThrownBy(() -> short_.write(dir.resolve("x.gguf"))).hasMessageContaining("wrote 12 bytes, expected 16");
    }

    @Test
    void parsesFromMemoryWithoutAFile() throws IOException {
        var bos = new java.io.ByteArrayOutputStream();
        new GGUFWriter().putString("general.architecture", "llama").write(bos);
        GGUFFile f = GGUFFile.parse(Path.of("<memory>"), MemorySegment.ofArray(bos.toByteArray()));
        assertThat(f.requireString("general.architecture")).isEqualTo("llama");
        assertThat(f.tensors()).isEmpty();
    }
}
