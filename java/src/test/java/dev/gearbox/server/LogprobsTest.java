package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.model.Sequence;
import dev.gearbox.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code logprobs} / {@code top_logprobs} on the default ladder, in OpenAI's shapes, checked
 * against the model's own distribution computed here without the server (one forward pass and a
 * log-softmax in double precision).
 */
class LogprobsTest {
    private static DefaultLadderServer running;
    private static Ladder ladder;
    private static Http http;

    @BeforeAll
    static void start() throws Exception {
        running = new DefaultLadderServer(24);   // the default ladder's max_answer_tokens
        ladder = running.ladder;
        http = running.http;
    }

    @AfterAll
    static void stop() {
        if (running != null) running.close();
    }

    private static final String PROMPT = "add:12+34=";

    /** log-softmax of the tier's logits after the prompt, in double. */
    private static double[] firstStepLogprobs(String tier) {
        var m = ladder.tier(tier).model();
        try (Sequence s = m.newSequence(64)) {
            float[] logits = s.forward(m.tokenizer().encode(PROMPT, true, false));
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (float x : logits) max = Math.max(max, x);
            for (float x : logits) z += Math.exp(x - max);
            double[] out = new double[logits.length];
            for (int i = 0; i < logits.length; i++) out[i] = logits[i] - max - Math.log(z);
            return out;
        }
    }

    @Test
    void chatLogprobsAreTheModelsOwnWithTheTopAlternatives() throws Exception {
        String body = "{\"model\":\"l\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}],\"temperature\":0,"
                + "\"logprobs\":true,\"top_logprobs\":3}";
        HttpResponse<String> r = http.post("/v1/chat/completions", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode b = Http.json(r);
        JsonNode content = b.at("/choices/0/logprobs/content");
        assertThat(content.size()).isEqualTo(b.at("/usage/completion_tokens").asInt()).isPositive();
        StringBuilder text = new StringBuilder();
        for (JsonNode e : content) {
            text.append(e.get("token").asText());
            JsonNode top = e.get("top_logprobs");
            assertThat(top).hasSize(3);
            // Greedy: the chosen token is the most likely one, and the alternatives come most likely first.
            assertThat(top.get(0).get("token").asText()).isEqualTo(e.get("token").asText());
            assertThat(top.get(0).get("logprob").asDouble()).isEqualTo(e.get("logprob").asDouble());
            assertThat(top.get(1).get("logprob").asDouble()).isLessThanOrEqualTo(top.get(0).get("logprob").asDouble());
            assertThat(top.get(2).get("logprob").asDouble()).isLessThanOrEqualTo(top.get(1).get("logprob").asDouble());
            byte[] bytes = new byte[e.get("bytes").size()];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) e.get("bytes").get(i).asInt();
            assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(e.get("token").asText());
        }
        assertThat(text.toString()).isEqualTo(b.at("/choices/0/message/content").asText());
        assertThat(b.at("/choices/0/logprobs/refusal").isNull()).isTrue();

        // The first token's numbers against a forward pass of the same tier computed here.
        double[] ref = firstStepLogprobs("l");
        Tokenizer tok = ladder.tier("l").model().tokenizer();
        int[] order = java.util.stream.IntStream.range(0, ref.length).boxed().sorted((x, y) -> Double.compare(ref[y], ref[x]))
                .mapToInt(Integer::intValue).toArray();
        JsonNode first = content.get(0);
        for (int k = 0; k < 3; k++) {
            JsonNode alt = first.get("top_logprobs").get(k);
            assertThat(alt.get("token").asText()).isEqualTo(tok.decode(new int[] {order[k]}, true));
            assertThat(alt.get("logprob").asDouble()).isCloseTo(ref[order[k]], within(1e-3));
        }
    }

    @Test
    void streamedLogprobsAddUpToTheWholeAnswersAndCompletionsUseTheLegacyShape() throws Exception {
        String whole = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}],\"temperature\":0,\"logprobs\":true}";
        JsonNode w = Http.json(http.post("/v1/chat/completions", whole));
        HttpResponse<String> s = http.post("/v1/chat/completions", whole.replace("}", ",\"stream\":true}").replaceFirst(",\"stream\":true}$", ",\"stream\":true}"));
        StringBuilder streamed = new StringBuilder();
        int entries = 0;
        for (String ev : Http.events(s.body())) {
            if (ev.equals("[DONE]")) break;
            JsonNode lp = Http.JSON.readTree(ev).at("/choices/0/logprobs");
            if (lp.isMissingNode() || lp.isNull()) continue;
            for (JsonNode e : lp.get("content")) {
                assertThat(e.get("top_logprobs")).isEmpty();
                assertThat(e.get("logprob").asDouble()).isEqualTo(w.at("/choices/0/logprobs/content").get(entries).get("logprob").asDouble());
                streamed.append(e.get("token").asText());
                entries++;
            }
        }
        assertThat(entries).isEqualTo(w.at("/choices/0/logprobs/content").size());
        assertThat(streamed.toString()).isEqualTo(w.at("/choices/0/message/content").asText());

        JsonNode c = Http.json(http.post("/v1/completions", "{\"model\":\"m\",\"prompt\":\"" + PROMPT + "\",\"temperature\":0,\"logprobs\":2}"));
        JsonNode lp = c.at("/choices/0/logprobs");
        assertThat(lp.get("tokens").size()).isEqualTo(c.at("/usage/completion_tokens").asInt());
        assertThat(lp.get("token_logprobs").size()).isEqualTo(lp.get("tokens").size());
        assertThat(lp.get("top_logprobs").get(0).size()).isEqualTo(2);
        assertThat(lp.get("text_offset").get(0).asInt()).isZero();
        double[] ref = firstStepLogprobs("m");
        double best = java.util.Arrays.stream(ref).max().orElseThrow();
        assertThat(lp.get("token_logprobs").get(0).asDouble()).isCloseTo(best, within(1e-3));
    }

    @Test
    void badLogprobFieldsAre400NamingThem() throws Exception {
        String base = "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
        assertThat(Http.json(http.post("/v1/chat/completions", base + "\"top_logprobs\":2}")).at("/error/param").asText()).isEqualTo("top_logprobs");
        assertThat(http.post("/v1/chat/completions", base + "\"logprobs\":true,\"top_logprobs\":21}").statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/chat/completions", base + "\"logprobs\":3}").statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\",\"logprobs\":6}").statusCode()).isEqualTo(400);
    }
}
