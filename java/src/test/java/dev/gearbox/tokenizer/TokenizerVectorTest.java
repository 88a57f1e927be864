package dev.gearbox.tokenizer;

import dev.gearbox.Require;

import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * llama.cpp's tokenizer test vectors (tests/test-tokenizer-0): every string, tokenized without
 * BOS/EOS and without special-token parsing, must give exactly llama.cpp's ids.
 */
class TokenizerVectorTest {
    static final Path SHARED = Path.of("../shared");
    static final Path VECTORS = SHARED.resolve("reference/tokenizer");
    static final Path ASSETS = Path.of("target/test-assets");

    static Path sharedFile(String name) {
        Path p = VECTORS.resolve(name);
        Require.capability("shared", Files.exists(p), p + " is absent (../shared reference data not available)");
        return p;
    }

    static Path asset(String name) {
        Path p = ASSETS.resolve(name);
        Require.capability("assets", Files.exists(p), p + " is absent: run scripts/fetch-test-assets.sh to download and convert it");
        return p;
    }

    /** Runs every vector and reports all mismatches at once, so a failure shows the whole picture. */
    static int check(Path gguf, String vectors) throws Exception {
        VectorFile vf = VectorFile.read(sharedFile(vectors + ".inp"), sharedFile(vectors + ".out"));
        List<String> failures = new ArrayList<>();
        try (GGUFFile f = GGUFFile.open(gguf)) {
            Tokenizer tok = Tokenizers.fromGGUF(f);
            for (int i = 0; i < vf.inputs().size(); i++) {
                String in = vf.inputs().get(i);
                int[] got = tok.encode(in, false, false);
                if (!Arrays.equals(got, vf.expected().get(i))) {
                    failures.add("#" + i + " " + escape(in) + "\n   expected " + Arrays.toString(vf.expected().get(i))
                            + "\n   got      " + Arrays.toString(got));
                }
            }
        }
        int passed = vf.inputs().size() - failures.size();
        System.out.println(vectors + ": " + passed + "/" + vf.inputs().size() + " pass");
        assertThat(failures).as(vectors + ": %d/%d pass", passed, vf.inputs().size()).isEmpty();
        return passed;
    }

    static String escape(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }

    @Test
    void llamaSpmVectors() throws Exception {
        // The vectors have 46 strings; README: the file in ../shared is the 2025 copy with "Führer" (not "Äpfel").
        assertThat(check(sharedFile("ggml-vocab-llama-spm.gguf"), "ggml-vocab-llama-spm.gguf")).isEqualTo(46);
    }

    @Test
    void llamaBpeVectorsWithLlama3Vocab() throws Exception {
        assertThat(check(asset("llama3-vocab.gguf"), "ggml-vocab-llama-bpe.gguf")).isEqualTo(46);
    }

    @Test
    void qwen2VectorsWithQwen3Vocab() throws Exception {
        assertThat(check(asset("qwen3-vocab.gguf"), "ggml-vocab-qwen2.gguf")).isEqualTo(46);
    }
}
