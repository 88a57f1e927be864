package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfDecomposer;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.svf.SvfFactors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default ladder's tiers s and m, with random SVF experts on m (made here from tier m's own
 * decomposition, not trained ones): served as models {@code m:add} and {@code m:mul}.
 */
class ExpertModelsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static DefaultLadderServer s;

    @BeforeAll
    static void start() throws Exception {
        Path models = Ladder.defaultPath().getParent();
        Path m = models.resolve("tier-m.gguf").toAbsolutePath();
        Path sidecar = dir.resolve("m.svf.gguf");
        SvfDecomposer.write(m, "m", MatrixSelection.MLP, sidecar, name -> { });
        try (SvfFactors f = SvfFactors.open(sidecar, m)) {
            expert(f, "add", 1).write(dir.resolve("m-add.gguf"));
            expert(f, "mul", 2).write(dir.resolve("m-mul.gguf"));
        }
        Path ladder = dir.resolve("ladder.yaml");
        Files.writeString(ladder, """
                name: experts
                gatekeeper: {model: %s}
                tiers:
                  - {name: s, model: %s, context: 256}
                  - {name: m, model: %s, context: 256, max_sequences: 4, expert_form: low_rank, expert_rank: 8,
                     svf_factors: m.svf.gguf, experts: {add: m-add.gguf, mul: m-mul.gguf}}
                """.formatted(models.resolve("tier-s.gguf").toAbsolutePath(), models.resolve("tier-s.gguf").toAbsolutePath(), m));
        s = new DefaultLadderServer(8, ladder);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    /** z = 1 + 0.5 N(0, 1): strong enough that the answer's log-probabilities move. */
    static SvfExpert expert(SvfFactors f, String task, long seed) {
        Random rnd = new Random(seed);
        Map<String, float[]> z = new LinkedHashMap<>();
        for (String t : f.tensorNames()) {
            float[] v = new float[f.shape(t).rank()];
            for (int i = 0; i < v.length; i++) v[i] = (float) Math.max(0.05, 1 + 0.5 * rnd.nextGaussian());
            z.put(t, v);
        }
        return new SvfExpert("m", f.baseSha256(), task, "mlp", "random, ExpertModelsTest", z, null);
    }

    static JsonNode complete(String model, String prompt) throws Exception {
        HttpResponse<String> r = s.http.post("/v1/chat/completions", "{\"model\":\"" + model
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}],\"max_tokens\":4,\"logprobs\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void modelsListEachTierExpertWithItsFormAndError() throws Exception {
        JsonNode data = JSON.readTree(s.http.get("/v1/models").body()).get("data");
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        data.forEach(n -> byId.put(n.get("id").asText(), n));
        assertThat(byId).containsKeys("s", "m", "auto", "m:add", "m:mul").doesNotContainKey("s:add");
        JsonNode g = byId.get("m:add").get("gearbox");
        assertThat(g.get("tier").asText()).isEqualTo("m");
        assertThat(g.get("expert_form").asText()).isEqualTo("low_rank");
        assertThat(g.get("expert_rank").asInt()).isEqualTo(8);
        // rank 8 of a change spread over every singular value: a large, reported error
        assertThat(g.get("max_relative_error").asDouble()).isBetween(0.1, 1.0);
        assertThat(byId.get("m").has("gearbox")).isFalse();
    }

    @Test
    void anExpertModelAnswersWithTheExpertAndEchoesItsName() throws Exception {
        String prompt = "add:12+34=";
        JsonNode base = complete("m", prompt), add = complete("m:add", prompt);
        assertThat(add.get("model").asText()).isEqualTo("m:add");
        assertThat(add.at("/gearbox/expert").asText()).isEqualTo("add");
        assertThat(add.at("/gearbox/final_tier").asText()).isEqualTo("m");
        assertThat(base.at("/gearbox/expert").isNull()).isTrue();
        assertThat(base.at("/choices/0/logprobs/content").size()).as(base.toString()).isPositive();
        double lpBase = base.at("/choices/0/logprobs/content/0/logprob").asDouble();
        double lpAdd = add.at("/choices/0/logprobs/content/0/logprob").asDouble();
        assertThat(lpAdd).isNotCloseTo(lpBase, org.assertj.core.api.Assertions.within(1e-4));

        HttpResponse<String> text = s.http.post("/v1/completions", "{\"model\":\"m:mul\",\"prompt\":\"hi\",\"max_tokens\":3}");
        assertThat(text.statusCode()).as(text.body()).isEqualTo(200);
        assertThat(JSON.readTree(text.body()).get("model").asText()).isEqualTo("m:mul");
    }

    @Test
    void anUnknownExpertIsA404NamingTheTiersExperts() throws Exception {
        HttpResponse<String> r = s.http.post("/v1/completions", "{\"model\":\"m:sort\",\"prompt\":\"x\",\"max_tokens\":1}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("tier 'm' has no expert 'sort'").contains("add, mul").contains("model_not_found");
        assertThat(s.http.get("/v1/models/s:add").statusCode()).isEqualTo(404);
    }

    @Test
    void thePrefixCacheKeepsEachExpertsKeysApart() throws Exception {
        String prompt = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
                + "seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four";
        complete("m", prompt);
        assertThat(complete("m", prompt).at("/usage/prompt_tokens_details/cached_tokens").asInt()).isPositive();
        // same prompt, other weights: nothing of the base model's KV may be reused
        assertThat(complete("m:add", prompt).at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
        assertThat(complete("m:add", prompt).at("/usage/prompt_tokens_details/cached_tokens").asInt()).isPositive();
    }
}
