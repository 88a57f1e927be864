package dev.gearbox.gguf;

import dev.gearbox.SharedData;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Corrupted copies of the real stories260K file: each must fail with a precise GGUFFormatException. */
class GGUFCorruptionTest {
    @TempDir Path dir;
    byte[] original;
    GGUFLayout layout;
    int copies;

    @BeforeEach
    void load() throws IOException {
        original = Files.readAllBytes(SharedData.stories260K());
        layout = new GGUFLayout(original);
    }

    @Test
    void pristineCopyOpens() throws IOException {
        try (GGUFFile f = GGUFFile.open(write(original.clone()))) {
            assertThat(f.tensors()).hasSize(48);
            assertThat(f.dataOffset()).isEqualTo((layout.headerEnd + 31) / 32 * 32);
        }
    }

    @Test
    void wrongMagic() throws IOException {
        GGUFFormatException e = corrupt(b -> b[0] = 'X');
        assertThat(e.offset()).isZero();
        assertThat(e).hasMessageContaining("wrong magic");
    }

    @Test
    void unsupportedVersions() throws IOException {
        GGUFFormatException e = corrupt(b -> putI32(b, 4, 4));
        assertThat(e.offset()).isEqualTo(4);
        assertThat(e).hasMessageContaining("unsupported GGUF version 4");
        assertThat(corrupt(b -> putI32(b, 4, 1))).hasMessageContaining("version 1");
        assertThat(corrupt(b -> putI32(b, 4, 0x03000000))).hasMessageContaining("big-endian");
    }

    @Test
    void truncatedAnywhereIsReportedWithItsPlace() throws IOException {
        List<Long> cuts = new ArrayList<>(List.of(0L, 3L, 4L, 7L, 12L, 20L, 23L, 24L, 30L));
        for (GGUFLayout.Kv kv : layout.kvs.values()) {
            cuts.add(kv.keyAt() + 3);       // inside a key's length
            cuts.add(kv.typeAt() + 2);      // inside its type
            cuts.add(kv.valueAt() + 1);     // inside its value
        }
        GGUFLayout.Kv tokens = layout.kvs.get("tokenizer.ggml.tokens");
        cuts.add(tokens.valueAt() + 2000);  // deep inside the vocabulary array
        for (GGUFLayout.Tensor t : layout.tensors.subList(0, 4)) {
            cuts.add(t.nameAt() + 10);
            cuts.add(t.nDimsAt() + 1);
            cuts.add(t.dimAt()[0] + 4);
            cuts.add(t.typeAt() + 3);
            cuts.add(t.offsetAt() + 7);
        }
        cuts.add(layout.headerEnd);                  // header complete, data section missing
        cuts.add(layout.headerEnd + 1000);           // inside the first tensor's data
        cuts.add(original.length - 1L);              // one byte short of the last tensor
        for (long cut : cuts) {
            GGUFFormatException e = corrupt(b -> {}, (int) cut);
            assertThat(e.getMessage()).as("cut at " + cut).containsAnyOf("truncated", "too short");
            if (cut >= 4) assertThat(e.offset()).as("cut at " + cut + ": " + e.getMessage()).isGreaterThanOrEqualTo(0);
        }
        // Cuts in the data section name the tensor that no longer fits.
        GGUFFormatException last = corrupt(b -> {}, original.length - 1);
        assertThat(last).hasMessageContaining("tensor 'blk.4.ffn_norm.weight'").hasMessageContaining("runs past the end");
        assertThat(last.offset()).isEqualTo(layout.tensor("blk.4.ffn_norm.weight").offsetAt());
        GGUFFormatException inName = corrupt(b -> {}, (int) layout.tensors.get(2).nameAt() + 10);
        assertThat(inName).hasMessageContaining("name of tensor #2");
        GGUFFormatException inValue = corrupt(b -> {}, (int) layout.kvs.get("llama.block_count").valueAt() + 1);
        assertThat(inValue).hasMessageContaining("metadata 'llama.block_count'");
        assertThat(inValue.offset()).isEqualTo(layout.kvs.get("llama.block_count").valueAt());
    }

    @Test
    void tensorDataPastTheEnd() throws IOException {
        GGUFLayout.Tensor t = layout.tensor("blk.2.ffn_up.weight");
        GGUFFormatException e = corrupt(b -> putI64(b, t.offsetAt(), 1L << 40));
        assertThat(e).hasMessageContaining("tensor 'blk.2.ffn_up.weight'").hasMessageContaining("runs past the end");
        assertThat(e.offset()).isEqualTo(t.offsetAt());
        // An offset so large that offset + size overflows a long must not slip through.
        GGUFFormatException wrap = corrupt(b -> putI64(b, t.offsetAt(), Long.MAX_VALUE - 31));
        assertThat(wrap).hasMessageContaining("blk.2.ffn_up.weight");
        // A dimension that makes the tensor larger than the file.
        GGUFFormatException dim = corrupt(b -> putI64(b, layout.tensor("output.weight").dimAt()[1], 1L << 30));
        assertThat(dim).hasMessageContaining("tensor 'output.weight'").hasMessageContaining("runs past the end");
    }

    @Test
    void unknownTensorType() throws IOException {
        GGUFLayout.Tensor t = layout.tensor("blk.1.attn_v.weight");
        GGUFFormatException e = corrupt(b -> putI32(b, t.typeAt(), 99));
        assertThat(e).hasMessageContaining("tensor 'blk.1.attn_v.weight'").hasMessageContaining("unknown tensor type 99");
        assertThat(e.offset()).isEqualTo(t.typeAt());
        GGUFFormatException q = corrupt(b -> putI32(b, layout.tensor("output_norm.weight").typeAt(), GGMLType.Q4_K.id()));
        assertThat(q).hasMessageContaining("output_norm.weight").hasMessageContaining("block size 256");
    }

    @Test
    void absurdCounts() throws IOException {
        GGUFFormatException tc = corrupt(b -> putI64(b, 8, 1L << 40));
        assertThat(tc).hasMessageContaining("absurd tensor_count 1099511627776");
        assertThat(tc.offset()).isEqualTo(8);
        GGUFFormatException kc = corrupt(b -> putI64(b, 16, -1L));
        assertThat(kc).hasMessageContaining("absurd metadata_kv_count 18446744073709551615");
        assertThat(kc.offset()).isEqualTo(16);
        // More tensors than the header holds: runs into the data section and fails while reading names.
        assertThat(corrupt(b -> putI64(b, 8, 100_000))).isInstanceOf(GGUFFormatException.class);

        GGUFLayout.Kv model = layout.kvs.get("tokenizer.ggml.model");
        GGUFFormatException sl = corrupt(b -> putI64(b, model.valueAt(), 1L << 62));
        assertThat(sl).hasMessageContaining("absurd length").hasMessageContaining("metadata 'tokenizer.ggml.model'");
        assertThat(sl.offset()).isEqualTo(model.valueAt());
        GGUFFormatException kl = corrupt(b -> putI64(b, model.keyAt(), 5_000_000));
        assertThat(kl).hasMessageContaining("metadata key #3").hasMessageContaining("truncated");

        GGUFLayout.Kv tokens = layout.kvs.get("tokenizer.ggml.tokens");
        GGUFFormatException al = corrupt(b -> putI64(b, tokens.valueAt() + 4, 1L << 60));
        assertThat(al).hasMessageContaining("metadata 'tokenizer.ggml.tokens'").hasMessageContaining("absurd array length");
        assertThat(al.offset()).isEqualTo(tokens.valueAt() + 4);
        GGUFFormatException big = corrupt(b -> putI64(b, tokens.valueAt() + 4, 10_000_000));
        assertThat(big).hasMessageContaining("tokenizer.ggml.tokens").hasMessageContaining("runs past the end of the file");
        GGUFLayout.Kv scores = layout.kvs.get("tokenizer.ggml.scores");
        assertThat(corrupt(b -> putI32(b, scores.valueAt(), 77))).hasMessageContaining("unknown array element type 77");
        assertThat(corrupt(b -> putI32(b, scores.typeAt(), 13))).hasMessageContaining("metadata 'tokenizer.ggml.scores': unknown value type 13");
    }

    @Test
    void badNumberOfDimensions() throws IOException {
        GGUFLayout.Tensor t = layout.tensor("blk.0.ffn_down.weight");
        for (int nd : new int[] {0, 5, -1, Integer.MAX_VALUE}) {
            GGUFFormatException e = corrupt(b -> putI32(b, t.nDimsAt(), nd));
            assertThat(e).hasMessageContaining("tensor 'blk.0.ffn_down.weight'").hasMessageContaining("bad number of dimensions " + nd);
            assertThat(e.offset()).isEqualTo(t.nDimsAt());
        }
        GGUFFormatException neg = corrupt(b -> putI64(b, t.dimAt()[0], -5));
        assertThat(neg).hasMessageContaining("bad dimension 0");
        assertThat(neg.offset()).isEqualTo(t.dimAt()[0]);
    }

    @Test
    void badAlignment() throws IOException {
        // "llama.block_count" and "general.alignment" have the same length: rename the key in place.
        GGUFLayout.Kv kv = layout.kvs.get("llama.block_count");
        for (int value : new int[] {5, 0, 3 << 20, 1 << 21}) {
            GGUFFormatException e = corrupt(b -> {
                byte[] name = "general.alignment".getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(name, 0, b, (int) kv.keyAt() + 8, name.length);
                putI32(b, kv.valueAt(), value);
            });
            assertThat(e).hasMessageContaining("general.alignment").hasMessageContaining("power of two")
                    .hasMessageContaining(Integer.toString(value));
            assertThat(e.offset()).isEqualTo(kv.valueAt());
        }
    }

    @Test
    void misalignedTensorOffset() throws IOException {
        GGUFLayout.Tensor t = layout.tensor("blk.3.attn_k.weight");
        long good = ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong((int) t.offsetAt());
        GGUFFormatException e = corrupt(b -> putI64(b, t.offsetAt(), good + 4));
        assertThat(e).hasMessageContaining("tensor 'blk.3.attn_k.weight'").hasMessageContaining("not a multiple of the alignment 32");
        assertThat(e.offset()).isEqualTo(t.offsetAt());
        assertThat(corrupt(b -> putI64(b, t.offsetAt(), -32))).hasMessageContaining("negative data offset");
    }

    @Test
    void duplicateNames() throws IOException {
        GGUFLayout.Tensor q = layout.tensor("blk.0.attn_q.weight");
        GGUFLayout.Tensor k = layout.tensor("blk.0.attn_k.weight");
        GGUFFormatException e = corrupt(b -> b[(int) k.nameAt() + 8 + "blk.0.attn_".length()] = 'q');
        assertThat(e).hasMessageContaining("duplicate tensor 'blk.0.attn_q.weight'");
        assertThat(e.offset()).isEqualTo(k.nameAt());
        assertThat(q.nameAt()).isLessThan(k.nameAt());

        // bos_token_id and eos_token_id differ in one letter.
        GGUFLayout.Kv eos = layout.kvs.get("tokenizer.ggml.eos_token_id");
        GGUFFormatException d = corrupt(b -> b[(int) eos.keyAt() + 8 + "tokenizer.ggml.".length()] = 'b');
        assertThat(d).hasMessageContaining("duplicate metadata key 'tokenizer.ggml.bos_token_id'");
        assertThat(d.offset()).isEqualTo(eos.keyAt());
    }

    @Test
    void emptyMissingAndDirectory() throws IOException {
        assertThat(corrupt(b -> {}, 0)).hasMessageContaining("too short");
        Path missing = dir.resolve("nope.gguf");
        assertThat(catchThrowable(() -> GGUFFile.open(missing))).isInstanceOf(GGUFFormatException.class).hasMessageContaining("nope.gguf");
        assertThat(catchThrowable(() -> GGUFFile.open(dir))).isInstanceOf(GGUFFormatException.class).hasMessageContaining("is a directory");
    }

    @Test
    void badBoolAndTooDeeplyNestedArrays() throws IOException {
        var bos = new java.io.ByteArrayOutputStream();
        new GGUFWriter().putBool("flag", true).write(bos);
        byte[] b = bos.toByteArray();
        GGUFLayout l = new GGUFLayout(b);
        b[(int) l.kvs.get("flag").valueAt()] = 2;
        Path p = write(b);
        assertThat(catchThrowable(() -> GGUFFile.open(p))).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("metadata 'flag': bool must be 0 or 1, got 2")
                .hasMessageContaining("at byte offset " + l.kvs.get("flag").valueAt());

        // Five levels of nesting by hand (the writer refuses to produce them).
        var h = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(GGUFFile.MAGIC).putInt(3).putLong(0).putLong(1).putLong(1).put((byte) 'k').putInt(9);
        for (int i = 0; i < 5; i++) h.putInt(9).putLong(1);
        h.putInt(5).putLong(0);
        Path deep = write(Arrays.copyOf(h.array(), h.position()));
        assertThat(catchThrowable(() -> GGUFFile.open(deep))).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("nested too deeply");
    }

    private GGUFFormatException corrupt(Consumer<byte[]> edit) throws IOException {
        return corrupt(edit, original.length);
    }

    /** Writes an edited copy cut to {@code length} bytes, opens it, and returns the (required) format error. */
    private GGUFFormatException corrupt(Consumer<byte[]> edit, int length) throws IOException {
        byte[] b = original.clone();
        edit.accept(b);
        Path p = write(Arrays.copyOf(b, length));
        Throwable t = catchThrowable(() -> GGUFFile.open(p).close());
        assertThat(t).as("opening " + p).isInstanceOf(GGUFFormatException.class);
        assertThat(t.getMessage()).startsWith(p.toString());
        GGUFFormatException e = (GGUFFormatException) t;
        assertThat(e.file()).isEqualTo(p);
        if (e.offset() >= 0) assertThat(e.getMessage()).contains("at byte offset " + e.offset());
        return e;
    }

    private Path write(byte[] b) throws IOException {
        Path p = dir.resolve("copy" + (copies++) + ".gguf");
        Files.write(p, b);
        return p;
    }

    private static void putI32(byte[] b, long at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt((int) at, v);
    }

    private static void putI64(byte[] b, long at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, v);
    }
}
