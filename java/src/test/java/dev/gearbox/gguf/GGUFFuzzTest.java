package dev.gearbox.gguf;

import dev.gearbox.SharedData;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random mutations of the real stories260K file. Every outcome must be either a file that
 * opens and can be fully read, or a GGUFFormatException; anything else fails with the seed that
 * reproduces it. Most mutated copies are parsed from memory (the same parser the mapped path uses)
 * so 3000 cases stay fast; every thirtieth is written to a file and opened through the mapping.
 */
class GGUFFuzzTest {
    static final int CASES = 3000;
    static final long[] EXTREMES = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE,
            1L << 31, 1L << 32, (1L << 32) - 1, 1L << 62, 4096, 65, 31};

    @TempDir Path dir;

    @Test
    void randomMutationsNeverEscapeAsAnythingButFormatErrors() throws IOException {
        Path src = SharedData.stories260K();
        byte[] original = Files.readAllBytes(src);
        GGUFLayout layout = new GGUFLayout(original);
        long[] intFields = integerFieldOffsets(layout);
        int opened = 0, rejected = 0;
        for (int seed = 0; seed < CASES; seed++) {
            byte[] mutated = mutate(original, layout, intFields, new SplittableRandom(seed));
            // Every thirtieth case goes through a real file and the memory mapping.
            Path name = seed % 30 == 0 ? dir.resolve("fuzz-" + seed + ".gguf") : Path.of("fuzz-" + seed + ".gguf");
            try {
                if (seed % 30 == 0) {
                    Files.write(name, mutated);
                    try (GGUFFile f = GGUFFile.open(name)) {
                        readEverything(f);
                    } finally {
                        Files.delete(name);
                    }
                } else {
                    readEverything(GGUFFile.parse(name, MemorySegment.ofArray(mutated)));
                }
                opened++;
            } catch (GGUFFormatException e) {
                assertThat(e.getMessage()).as("seed " + seed).startsWith(name + ": ");
                rejected++;
            } catch (Throwable t) {
                fail("seed " + seed + " escaped as " + t, t);
            }
        }
        // Both outcomes must actually occur, or the mutations are not exercising the parser.
        assertThat(opened).isGreaterThan(CASES / 20);
        assertThat(rejected).isGreaterThan(CASES / 4);
    }

    /** Every tensor's bytes and every metadata value, through the accessors a loader would use. */
    private static void readEverything(GGUFFile f) throws GGUFFormatException {
        float[] row = new float[256]; // a prefix is enough: the slice bounds are probed at both ends above
        for (TensorInfo t : f.tensorList()) {
            MemorySegment d = f.data(t);
            if (d.byteSize() > 0) {
                d.get(ValueLayout.JAVA_BYTE, 0);
                d.get(ValueLayout.JAVA_BYTE, d.byteSize() - 1);
            }
            if (t.type() == GGMLType.F32 || t.type() == GGMLType.F16 || t.type() == GGMLType.BF16) {
                int n = (int) Math.min(row.length, t.elementCount());
                Quantizer.dequantize(t.type(), d, row, 0, n);
            }
        }
        for (var e : f.metadata().entrySet()) {
            GGUFValue v = e.getValue();
            String k = e.getKey();
            v.toString();
            if (v.isArray()) {
                for (int i = 0; i < v.length(); i++) v.elementToString(i);
            }
            try { f.getLong(k, 0); } catch (GGUFFormatException ignored) { }
            try { f.getString(k, null); } catch (GGUFFormatException ignored) { }
            try { f.getDouble(k, 0); } catch (GGUFFormatException ignored) { }
            try { f.getStrings(k); } catch (GGUFFormatException ignored) { }
            try { f.getDoubles(k); } catch (GGUFFormatException ignored) { }
            try { f.requireInt(k, 0, 1000); } catch (GGUFFormatException ignored) { }
        }
    }

    private static byte[] mutate(byte[] original, GGUFLayout layout, long[] intFields, SplittableRandom r) {
        int header = (int) layout.headerEnd + 64;
        byte[] b = original.clone();
        int kind = r.nextInt(6);
        switch (kind) {
            case 0 -> { // flip a few bits, mostly in the header
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) {
                    int at = r.nextInt(10) < 8 ? r.nextInt(header) : r.nextInt(b.length);
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> b = Arrays.copyOf(b, r.nextInt(10) < 7 ? r.nextInt(header) : r.nextInt(b.length)); // truncate
            case 2 -> { // insert random bytes into the header
                int at = r.nextInt(header), n = 1 + r.nextInt(16);
                byte[] out = new byte[b.length + n];
                System.arraycopy(b, 0, out, 0, at);
                for (int i = 0; i < n; i++) out[at + i] = (byte) r.nextInt(256);
                System.arraycopy(b, at, out, at + n, b.length - at);
                b = out;
            }
            case 3 -> { // delete a run of header bytes
                int at = r.nextInt(header), n = 1 + r.nextInt(16);
                byte[] out = new byte[b.length - n];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + n, out, at, b.length - at - n);
                b = out;
            }
            default -> { // overwrite integer fields of the header with extreme values
                int n = 1 + r.nextInt(3);
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    long field = intFields[r.nextInt(intFields.length)];
                    int at = (int) (field >>> 8), width = (int) (field & 0xFF);
                    long v = r.nextBoolean() ? EXTREMES[r.nextInt(EXTREMES.length)] : r.nextLong();
                    if (width == 8) bb.putLong(at, v); else bb.putInt(at, (int) v);
                }
            }
        }
        return b;
    }

    /** (offset << 8 | width) of every count, length, type, dimension and offset field of the header. */
    private static long[] integerFieldOffsets(GGUFLayout l) {
        List<Long> f = new ArrayList<>(List.of(4L << 8 | 4, 8L << 8 | 8, 16L << 8 | 8));
        for (GGUFLayout.Kv kv : l.kvs.values()) {
            f.add(kv.keyAt() << 8 | 8);
            f.add(kv.typeAt() << 8 | 4);
            if (kv.type() == 9) { f.add(kv.valueAt() << 8 | 4); f.add((kv.valueAt() + 4) << 8 | 8); f.add((kv.valueAt() + 12) << 8 | 8); }
            else if (kv.type() == 8) f.add(kv.valueAt() << 8 | 8);
            else f.add(kv.valueAt() << 8 | 4);
        }
        for (GGUFLayout.Tensor t : l.tensors) {
            f.add(t.nameAt() << 8 | 8);
            f.add(t.nDimsAt() << 8 | 4);
            for (long d : t.dimAt()) f.add(d << 8 | 8);
            f.add(t.typeAt() << 8 | 4);
            f.add(t.offsetAt() << 8 | 8);
        }
        return f.stream().mapToLong(Long::longValue).toArray();
    }
}
