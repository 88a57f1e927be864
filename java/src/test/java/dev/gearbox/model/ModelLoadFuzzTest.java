package dev.gearbox.model;

import dev.gearbox.SharedData;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFValueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Well-formed GGUF files whose metadata makes no sense as a model: each seeded case replaces one or
 * two metadata values of stories260K with a random value of a random type (or drops the key).
 * Loading must give a working model or a {@link GGUFFormatException} naming the file; never any
 * other exception. (Byte-level mutations of the container are fuzzed by GGUFFuzzTest.)
 */
class ModelLoadFuzzTest {
    static final int CASES = 300;
    static final long[] EXTREMES = {0, 1, -1, 2, 3, 7, 4095, 1L << 31, (1L << 32) - 1, Long.MAX_VALUE, Long.MIN_VALUE};

    @TempDir
    Path dir;

    @Test
    void metadataMutationsGiveAModelOrAClearError() throws Exception {
        Path src = SharedData.stories260K();
        List<String> keys;
        try (GGUFFile f = GGUFFile.open(src)) {
            keys = new ArrayList<>(f.metadata().keySet());
        }
        int loaded = 0, rejected = 0;
        for (int seed = 0; seed < CASES; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            String k1 = keys.get(r.nextInt(keys.size())), k2 = r.nextBoolean() ? keys.get(r.nextInt(keys.size())) : null;
            long salt = r.nextLong();
            Path out = dir.resolve("fuzz-" + seed + ".gguf");
            GGUFRewriter.rewrite(src, out, (k, v) -> k.equals(k1) || k.equals(k2) ? randomValue(new SplittableRandom(salt ^ k.hashCode()), v) : v, t -> t);
            try (Model m = Model.load(out, new CpuBackend()); Sequence s = m.newSequence(8)) {
                s.forward(m.tokenizer().encode("Once upon", true, true));
                loaded++;
            } catch (GGUFFormatException e) {
                assertThat(e.getMessage()).as("seed %d", seed).contains(out.toString());
                rejected++;
            } catch (Throwable t) {
                fail("seed " + seed + " (keys " + k1 + ", " + k2 + ") escaped as " + t, t);
            }
        }
        assertThat(loaded).isGreaterThan(CASES / 10);
        assertThat(rejected).isGreaterThan(CASES / 10);
    }

    private static GGUFValue randomValue(SplittableRandom r, GGUFValue old) {
        return switch (r.nextInt(6)) {
            case 0 -> null;
            case 1 -> GGUFValue.of(GGUFValueType.UINT32, EXTREMES[r.nextInt(EXTREMES.length)] & 0xFFFFFFFFL);
            case 2 -> GGUFValue.of(GGUFValueType.INT64, EXTREMES[r.nextInt(EXTREMES.length)]);
            case 3 -> GGUFValue.f32(r.nextBoolean() ? Double.NaN : r.nextDouble(-1e6, 1e6));
            case 4 -> GGUFValue.string(r.nextBoolean() ? "" : "gpt2");
            default -> old.isArray() && old.length() > 1
                    ? truncatedArray(old, r.nextInt(old.length()))
                    : GGUFValue.i32s(new long[]{r.nextInt(-5, 600), r.nextInt(-5, 600)});
        };
    }

    private static GGUFValue truncatedArray(GGUFValue v, int n) {
        Object a = switch (v.value()) {
            case long[] x -> java.util.Arrays.copyOf(x, n);
            case double[] x -> java.util.Arrays.copyOf(x, n);
            case boolean[] x -> java.util.Arrays.copyOf(x, n);
            case String[] x -> java.util.Arrays.copyOf(x, n);
            case GGUFValue[] x -> java.util.Arrays.copyOf(x, n);
            default -> throw new IllegalStateException();
        };
        return GGUFValue.array(v.elementType(), a);
    }
}
