package dev.gearbox.gguf;

import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Offsets past 2^31 must work: a sparse file whose one F32 tensor spans 2.5 GB. */
class GGUFLargeFileTest {
    @TempDir Path dir;

    @Test
    void readsTheFarEndOfATensorBeyondTwoGigabytes() throws IOException {
        long rows = 40_000, cols = 16_384;                      // 655,360,000 floats = 2,621,440,000 bytes
        long tensorBytes = rows * cols * 4;
        byte[] header = header("big.weight", cols, rows);
        long dataOffset = (header.length + 31) / 32 * 32;
        long fileSize = dataOffset + tensorBytes;
        assertThat(fileSize).isGreaterThan(1L << 31);

        Path p = dir.resolve("big.gguf");
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(header);
            raf.setLength(fileSize);                             // sparse: no 2.5 GB actually written
            raf.seek(fileSize - 8);
            raf.write(le(Float.floatToRawIntBits(1.25f)));        // second-to-last element
            raf.write(le(Float.floatToRawIntBits(-7.5f)));        // last element
        }
        try (GGUFFile f = GGUFFile.open(p)) {
            TensorInfo t = f.tensor("big.weight");
            assertThat(t.byteSize()).isEqualTo(tensorBytes);
            MemorySegment data = f.data(t);
            var F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertThat(data.get(F32, tensorBytes - 4)).isEqualTo(-7.5f);
            assertThat(data.get(F32, tensorBytes - 8)).isEqualTo(1.25f);
            assertThat(data.get(F32, (1L << 31) + 64)).isEqualTo(0f);  // a hole of the sparse file reads as zeros
        }
        // One byte short must be reported, not mapped.
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(fileSize - 1);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> GGUFFile.open(p)).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("big.weight").hasMessageContaining("runs past the end");
    }

    /** A hand-encoded v3 header (independent of GGUFWriter) naming one 2-D F32 tensor at data offset 0. */
    private static byte[] header(String name, long cols, long rows) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(le(GGUFFile.MAGIC));
        b.writeBytes(le(3));
        b.writeBytes(le(1L));          // tensors
        b.writeBytes(le(0L));          // kv
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        b.writeBytes(le((long) n.length));
        b.writeBytes(n);
        b.writeBytes(le(2));
        b.writeBytes(le(cols));
        b.writeBytes(le(rows));
        b.writeBytes(le(GGMLType.F32.id()));
        b.writeBytes(le(0L));
        return b.toByteArray();
    }

    private static byte[] le(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }
    private static byte[] le(long v) { return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array(); }
}
