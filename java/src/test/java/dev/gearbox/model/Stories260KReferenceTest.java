package dev.gearbox.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.SharedData;
import dev.gearbox.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CPU engine against llama.cpp's own dumps for the real stories260K model: greedy ids exactly,
 * logits at every position within 1e-3 (max absolute difference).
 */
class Stories260KReferenceTest {
    static final double TOLERANCE = 1e-3;
    static Model model;

    @BeforeAll
    static void load() throws IOException {
        model = Model.load(SharedData.stories260K(), new CpuBackend());
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    @Test
    void configComesFromMetadata() {
        ModelConfig c = model.config();
        assertThat(c.arch()).isEqualTo(Architecture.LLAMA);
        assertThat(c.dim()).isEqualTo(64);
        assertThat(c.layers()).isEqualTo(5);
        assertThat(c.heads()).isEqualTo(8);
        assertThat(c.kvHeads()).isEqualTo(4);
        assertThat(c.ffDim()).isEqualTo(172);
        assertThat(c.vocabSize()).isEqualTo(512);
        assertThat(c.tiedOutput()).isFalse();
    }

    @Test
    void promptLogitsAtEveryPositionMatchLlamaCpp() throws IOException {
        JsonNode ref = SharedData.referenceJson("lily-tom.all-logits.json");
        int[] tokens = SharedData.ints(ref.get("tokens"));
        try (Sequence seq = model.newSequence(64)) {
            float[][] logits = seq.forwardAll(tokens);
            for (int i = 0; i < tokens.length; i++) {
                float[] expected = SharedData.floats(ref.get("positions").get(i).get("logits"));
                assertThat(maxAbsDiff(logits[i], expected)).as("position %d", i).isLessThan(TOLERANCE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"once-upon-a-time.gen64.json", "bos-only.gen32.json"})
    void greedyDecodeMatchesIdsAndLogits(String file) throws IOException {
        JsonNode ref = SharedData.referenceJson(file);
        int[] prompt = SharedData.ints(ref.get("tokens"));
        int[] expectedIds = SharedData.ints(ref.get("generated_tokens"));
        try (Sequence seq = model.newSequence(256)) {
            float[] logits = seq.forward(prompt);
            assertThat(maxAbsDiff(logits, SharedData.floats(ref.get("last_logits")))).isLessThan(TOLERANCE);
            int[] got = new int[expectedIds.length];
            for (int j = 0; j < expectedIds.length; j++) {
                got[j] = argmax(logits);
                if (got[j] != expectedIds[j]) break;
                logits = seq.forward(new int[]{got[j]});
                JsonNode gen = ref.get("generated").get(j);
                assertThat(maxAbsDiff(logits, SharedData.floats(gen.get("logits")))).as("after generated token %d", j).isLessThan(TOLERANCE);
            }
            assertThat(got).containsExactly(expectedIds);
        }
    }

    @Test
    void longStoryPromptTopTenMatch() throws IOException {
        JsonNode ref = SharedData.referenceJson("story150.top10.json");
        int[] tokens = SharedData.ints(ref.get("tokens"));
        try (Sequence seq = model.newSequence(256)) {
            float[][] logits = seq.forwardAll(tokens);
            for (int i = 0; i < tokens.length; i++) {
                JsonNode pos = ref.get("positions").get(i);
                int[] ids = SharedData.ints(pos.get("top_ids"));
                float[] vals = SharedData.floats(pos.get("top_logits"));
                for (int k = 0; k < ids.length; k++) {
                    assertThat((double) Math.abs(logits[i][ids[k]] - vals[k])).as("position %d id %d", i, ids[k]).isLessThan(TOLERANCE);
                }
            }
            assertThat(argmax(logits[tokens.length - 1])).isEqualTo(13);
        }
    }

    @Test
    void chunkedAndTokenByTokenPrefillAgreeWithBatched() throws IOException {
        JsonNode ref = SharedData.referenceJson("story150.top10.json");
        int[] tokens = SharedData.ints(ref.get("tokens"));
        float[] batched;
        try (Sequence seq = model.newSequence(256)) {
            batched = seq.forward(tokens);
        }
        try (Sequence seq = model.newSequence(256)) {
            float[] last = null;
            for (int t : tokens) last = seq.forward(new int[]{t});
            assertThat(maxAbsDiff(last, batched)).isLessThan(1e-4);
        }
    }

    @Test
    void hiddenStatesComeWithTheSameLogits() throws IOException {
        JsonNode ref = SharedData.referenceJson("lily-tom.all-logits.json");
        int[] tokens = SharedData.ints(ref.get("tokens"));
        try (Sequence a = model.newSequence(64); Sequence b = model.newSequence(64)) {
            Sequence.Outputs out = a.forwardWithHidden(tokens);
            float[][] logits = b.forwardAll(tokens);
            assertThat(out.hidden()).hasNumberOfRows(tokens.length);
            for (int i = 0; i < tokens.length; i++) {
                assertThat(out.logits()[i]).containsExactly(logits[i]);
                // The hidden state is what the output matrix turns into those logits.
                var output = model.file().tensor("output.weight");
                float[] w = new float[(int) output.elementCount()];
                dev.gearbox.tensor.Quantizer.dequantize(output.type(), model.file().data(output), w, 0, w.length);
                for (int v = 0; v < 512; v += 37) {
                    double dot = 0;
                    for (int d = 0; d < 64; d++) dot += w[v * 64 + d] * out.hidden()[i][d];
                    assertThat(Math.abs(dot - logits[i][v])).isLessThan(1e-4);
                }
            }
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
