package dev.gearbox.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.SharedData;
import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The test-only reference forward pass itself agrees with llama.cpp, so it can judge the engine elsewhere. */
class NaiveForwardTest {
    @Test
    void naiveReferenceMatchesLlamaCppOnStories260K() throws Exception {
        JsonNode ref = SharedData.referenceJson("lily-tom.all-logits.json");
        int[] tokens = SharedData.ints(ref.get("tokens"));
        try (GGUFFile f = GGUFFile.open(SharedData.stories260K())) {
            NaiveForward naive = new NaiveForward(f);
            for (int i = 0; i < tokens.length; i++) {
                double[] logits = naive.step(tokens[i]);
                float[] expected = SharedData.floats(ref.get("positions").get(i).get("logits"));
                double max = 0;
                for (int v = 0; v < logits.length; v++) max = Math.max(max, Math.abs(logits[v] - expected[v]));
                assertThat(max).as("position %d", i).isLessThan(1e-3);
            }
        }
    }
}
