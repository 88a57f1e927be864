package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code n}: several choices from one request, sharing the prompt's prefill, each reproducible with a seed. */
class ChoicesTest {
    private static DefaultLadderServer running;
    private static Ladder ladder;
    private static Http http;
    private static Scheduler scheduler;

    @BeforeAll
    static void start() throws Exception {
        running = new DefaultLadderServer(24);
        ladder = running.ladder;
        http = running.http;
        scheduler = running.scheduler;
    }

    @AfterAll
    static void stop() {
        if (running != null) running.close();
    }

    private static final String PROMPT = "rev:abcdefghijklmnopqrstuvwxyzab=";

    private static String body(int n, int seed, boolean stream) {
        return "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}],\"n\":" + n + ",\"temperature\":1.5,\"seed\":" + seed
                + (stream ? ",\"stream\":true" : "") + "}";
    }

    private static List<String> texts(JsonNode b) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : b.get("choices")) out.add(c.at("/message/content").asText());
        return out;
    }

    @Test
    void nChoicesShareThePrefillAndEachIsReproducible() throws Exception {
        long hitsBefore = scheduler.stats("m").prefixHits();
        JsonNode a = Http.json(http.post("/v1/chat/completions", body(3, 5, false)));
        assertThat(a.get("choices")).hasSize(3);
        for (int i = 0; i < 3; i++) assertThat(a.get("choices").get(i).get("index").asInt()).isEqualTo(i);
        int tokens = 0;
        for (JsonNode c : a.get("choices")) tokens += c.at("/message/content").asText().isEmpty() ? 0 : 1;
        assertThat(a.at("/usage/completion_tokens").asInt()).isGreaterThanOrEqualTo(tokens);
        // The later choices took the prompt's blocks from the prefix cache instead of prefilling it again.
        assertThat(scheduler.stats("m").prefixHits() - hitsBefore).isGreaterThanOrEqualTo(2);
        JsonNode again = Http.json(http.post("/v1/chat/completions", body(3, 5, false)));
        assertThat(texts(again)).as("same seed, same choices").isEqualTo(texts(a));
        JsonNode other = Http.json(http.post("/v1/chat/completions", body(3, 6, false)));
        assertThat(texts(other)).isNotEqualTo(texts(a));
        // One choice with the same seed is the first of the three.
        JsonNode one = Http.json(http.post("/v1/chat/completions", body(1, 5, false)));
        assertThat(texts(one).getFirst()).isEqualTo(texts(a).getFirst());
    }

    @Test
    void streamedChoicesCarryTheirIndexAndAddUpToTheWholeOnes() throws Exception {
        List<String> whole = texts(Http.json(http.post("/v1/chat/completions", body(2, 9, false))));
        StringBuilder[] got = {new StringBuilder(), new StringBuilder()};
        int finished = 0;
        for (String ev : Http.events(http.post("/v1/chat/completions", body(2, 9, true)).body())) {
            if (ev.equals("[DONE]")) break;
            JsonNode c = Http.JSON.readTree(ev).at("/choices/0");
            if (c.isMissingNode()) continue;
            int i = c.get("index").asInt();
            got[i].append(c.at("/delta/content").asText(""));
            if (c.hasNonNull("finish_reason")) finished++;
        }
        assertThat(finished).isEqualTo(2);
        assertThat(List.of(got[0].toString(), got[1].toString())).isEqualTo(whole);
    }

    @Test
    void nOutOfRangeIs400() throws Exception {
        assertThat(http.post("/v1/chat/completions", body(17, 1, false)).statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/chat/completions", body(0, 1, false)).statusCode()).isEqualTo(400);
    }
}
