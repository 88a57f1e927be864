package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.schedule.Scheduler;
import dev.gearbox.tokenizer.Tokenizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The user-shaped ladders themselves (both shapes), and a plain HTTP chat on each: the ladder opens
 * with its real vocabulary and template, the expected prompt count never doubles BOS, and
 * [NEEDS: chat-template] the server counts the prompt its tier's template makes.
 */
class UserShapedLaddersTest {
    static final String MESSAGES = "[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
            + "{\"role\":\"user\",\"content\":\"What is 2 + 2?\"}]";

    @ParameterizedTest
    @EnumSource(UserShapedLadders.Shape.class)
    void ladderOpensWithTheRealVocabularyAndTemplate(UserShapedLadders.Shape shape, @TempDir Path dir) throws Exception {
        try (Ladder ladder = Ladder.open(UserShapedLadders.write(dir, shape))) {
            assertThat(ladder.tierNames()).containsExactly("s", "m", "l");
            assertThat(ladder.maxAnswerTokens()).isEqualTo(UserShapedLadders.MAX_ANSWER_TOKENS);
            Tier l = ladder.largest();
            assertThat(l.vocabSize()).isGreaterThan(128_000);
            JsonNode msgs = Http.JSON.readTree(MESSAGES);
            String prompt = UserShapedLadders.renderedPrompt(l, msgs, null);
            Tokenizer tok = l.model().tokenizer();
            int[] ids = tok.encode(prompt, false, true);
            switch (shape) {
                case QWEN3 -> assertThat(prompt).startsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
                        .endsWith("<|im_start|>assistant\n");
                case LLAMA3_1 -> {
                    assertThat(prompt).startsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>")
                            .endsWith("<|start_header_id|>assistant<|end_header_id|>\n\n");
                    // The template writes BOS itself: counted once, not once more by the tokenizer.
                    assertThat(Arrays.stream(ids).filter(i -> i == tok.bos()).count()).isEqualTo(1);
                    assertThat(ids[0]).isEqualTo(tok.bos());
                }
            }
            assertThat(UserShapedLadders.templatedPromptTokens(l, msgs, null)).isEqualTo(ids.length + (prompt.startsWith(tok.tokenText(tok.bos())) || !tok.addsBos() ? 0 : 1));
        }
    }

    /** [NEEDS: chat-template] a raw chat request costs the templated prompt's tokens, on each shape. */
    @ParameterizedTest
    @EnumSource(UserShapedLadders.Shape.class)
    void serverCountsTheTemplatedPrompt(UserShapedLadders.Shape shape, @TempDir Path dir) throws Exception {
        try (Ladder ladder = Ladder.open(UserShapedLadders.write(dir, shape));
             GearboxServer server = new GearboxServer(new SchedulerEngine(Scheduler.open(ladder)), ladder.maxAnswerTokens(),
                     GearboxServer.Settings.loopback(0))) {
            HttpResponse<String> r = new Http(server.port()).post("/v1/chat/completions",
                    "{\"model\":\"auto\",\"temperature\":0,\"messages\":" + MESSAGES + "}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode b = Http.json(r);
            Tier tier = ladder.tier(b.get("gearbox").get("tier").asText());
            assertThat(b.get("usage").get("completion_tokens").asInt()).isBetween(1, UserShapedLadders.MAX_ANSWER_TOKENS);
            JsonNode msgs = Http.JSON.readTree(MESSAGES);
            assertThat(b.get("usage").get("prompt_tokens").asInt()).as("prompt tokens of\n" + UserShapedLadders.renderedPrompt(tier, msgs, null))
                    .isEqualTo(UserShapedLadders.templatedPromptTokens(tier, msgs, null));
        }
    }
}
