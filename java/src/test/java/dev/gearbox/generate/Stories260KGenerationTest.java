package dev.gearbox.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.SharedData;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Greedy generation on the real stories260K model against llama.cpp's output. */
class Stories260KGenerationTest {

    @Test
    void greedySamplerLoopOnTheModelReproducesLlamaCpp() throws IOException {
        JsonNode ref = SharedData.referenceJson("once-upon-a-time.gen64.json");
        int[] prompt = SharedData.ints(ref.get("tokens"));
        int[] expected = SharedData.ints(ref.get("generated_tokens"));
        try (Model m = Model.load(SharedData.stories260K(), new CpuBackend()); Sequence seq = m.newSequence(128)) {
            Sampler sampler = new Sampler(SamplingParams.greedy());
            float[] logits = seq.forward(prompt);
            int[] got = new int[expected.length];
            for (int i = 0; i < got.length; i++) {
                got[i] = sampler.sample(logits).token();
                if (i + 1 < got.length) logits = seq.forward(new int[] {got[i]});
            }
            assertThat(got).containsExactly(expected);
        }
    }

    @Test
    void generatorOnceUponATimeMatchesLlamaCppGreedy64() throws IOException {
        Path model = SharedData.stories260K();
        JsonNode ref = SharedData.referenceJson("once-upon-a-time.gen64.json");
        try (Model m = Model.load(model, new CpuBackend()); Sequence seq = m.newSequence(256)) {
            Tokenizer tok = m.tokenizer();
            int[] prompt = tok.encode("Once upon a time", true, true);
            assertThat(prompt).containsExactly(SharedData.ints(ref.get("tokens")));
            List<String> pieces = new ArrayList<>();
            GenerationResult r = new Generator(tok).generate(LogitSource.of(seq), prompt,
                    SamplingParams.greedy().toBuilder().maxTokens(64).build(), pieces::add);
            assertThat(r.tokens()).containsExactly(SharedData.ints(ref.get("generated_tokens")));
            assertThat(r.text()).isEqualTo(ref.get("generated_text").asText());
            assertThat(String.join("", pieces)).isEqualTo(r.text());
            assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            // logprob of each greedy token = log-softmax of llama.cpp's logits at that step
            float[] lastLogits = SharedData.floats(ref.get("last_logits"));
            assertThat(r.logprobs()[0]).isCloseTo(Sampler.logSoftmaxAt(lastLogits, r.tokens()[0]), org.assertj.core.api.Assertions.within(1e-3f));
        }
    }
}
