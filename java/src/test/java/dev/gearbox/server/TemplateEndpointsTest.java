package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama.cpp's /apply-template, /tokenize and /detokenize on a Qwen3-shaped ladder: the prompt the
 * chat endpoint builds is the tier's own template rendering (checked against the test's own
 * ChatRenderer call), and its token count is the usage a chat reports.
 */
class TemplateEndpointsTest {
    @Test
    void applyTemplateTokenizeAndDetokenizeShowWhatTheChatEndpointReads(@TempDir Path dir) throws Exception {
        try (Ladder ladder = Ladder.open(UserShapedLadders.write(dir, UserShapedLadders.Shape.QWEN3))) {
            GearboxServer server = new GearboxServer(new SchedulerEngine(Scheduler.open(ladder)), 4, new GearboxServer.Settings("127.0.0.1", 0, 1 << 20, 5_000));
            try {
                Http http = new Http(server.port());
                String messages = "[{\"role\":\"system\",\"content\":\"You are brief.\"},{\"role\":\"user\",\"content\":\"What is 2+2? Grüße 🚀\"}]";
                JsonNode applied = Http.json(http.post("/apply-template", "{\"messages\":" + messages + "}"));
                var tier = ladder.tier(0);
                String expected = UserShapedLadders.renderedPrompt(tier, Http.JSON.readTree(messages), null);
                assertThat(applied.get("prompt").asText()).isEqualTo(expected).contains("<|im_start|>user\nWhat is 2+2? Grüße 🚀<|im_end|>");

                JsonNode toks = Http.json(http.post("/tokenize", Http.JSON.createObjectNode().put("content", expected).toString()));
                assertThat(toks.get("tokens").size()).isEqualTo(UserShapedLadders.templatedPromptTokens(tier, Http.JSON.readTree(messages), null));
                JsonNode back = Http.json(http.post("/detokenize", "{\"tokens\":" + toks.get("tokens") + "}"));
                assertThat(back.get("content").asText()).isEqualTo(expected);

                JsonNode chat = Http.json(http.post("/v1/chat/completions", "{\"model\":\"" + tier.name() + "\",\"messages\":" + messages + ",\"max_tokens\":2}"));
                assertThat(chat.at("/usage/prompt_tokens").asInt()).isEqualTo(toks.get("tokens").size());

                assertThat(http.post("/detokenize", "{\"tokens\":[999999999]}").statusCode()).isEqualTo(400);
                assertThat(http.post("/tokenize", "{\"content\":3}").statusCode()).isEqualTo(400);
                assertThat(http.post("/apply-template", "{\"messages\":[]}").statusCode()).isEqualTo(400);
            } finally {
                server.close();
            }
        }
    }
}
