package dev.gearbox.ladder;

import dev.gearbox.gguf.synth.SyntheticModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small random tier models and ladder files in a temp folder, for fast tests. */
public final class TestLadders {
    public static final int VOCAB = 320;

    private TestLadders() {}

    /** Writes a llama model of the given width and depth (vocabulary {@link #VOCAB} unless given). */
    public static Path model(Path dir, String file, int dim, int layers, long seed) throws IOException {
        return model(dir, file, dim, layers, seed, VOCAB);
    }

    public static Path model(Path dir, String file, int dim, int layers, long seed, int vocab) throws IOException {
        Path p = dir.resolve(file);
        if (!Files.exists(p)) {
            SyntheticModel.builder().embeddingLength(dim).layers(layers).heads(2).kvHeads(2).feedForward(2 * dim)
                    .vocab(vocab).contextLength(512).seed(seed).build().write(p);
        }
        return p;
    }

    /** Three tiers s < m < l (same vocabulary) in {@code dir}. */
    public static void threeTiers(Path dir) throws IOException {
        model(dir, "tier-s.gguf", 16, 1, 1);
        model(dir, "tier-m.gguf", 32, 1, 2);
        model(dir, "tier-l.gguf", 48, 2, 3);
    }

    /** A ladder over {@link #threeTiers} with the given extra YAML appended (e.g. an ensemble). */
    public static Path ladder(Path dir, String tierExtras, String extra) throws IOException {
        threeTiers(dir);
        String yaml = """
                name: test
                gatekeeper: {model: tier-s.gguf}
                max_answer_tokens: 12
                tiers:
                  - {name: s, model: tier-s.gguf, context: 128%1$s}
                  - {name: m, model: tier-m.gguf, context: 128}
                  - {name: l, model: tier-l.gguf, context: 128}
                %2$s
                """.formatted(tierExtras, extra);
        return write(dir.resolve("ladder.yaml"), yaml);
    }

    public static Path write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        return file;
    }
}
