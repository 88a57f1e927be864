package dev.gearbox.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real chat templates of Llama 3, Llama 3.1, Qwen3, Gemma 3 and DeepSeek V3 (from the npm
 * tokenizer packages scripts/fetch-test-assets.sh unpacks) rendered by {@link ChatRenderer} for the
 * conversations in conversations.json, compared byte for byte with Python jinja2's output under
 * transformers' settings (chat-MODEL.json, from scripts/make-template-fixtures.py). Where jinja2
 * rejects a conversation the Java renderer must reject it too: the same message for the template's
 * own raise_exception, some TemplateException for a Python type error. Skipped without the packages.
 */
class ChatTemplateFixturesTest {
    static final Path ASSETS = Path.of("target/test-assets");
    static final List<String> MODELS = List.of("llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3");
    static final ObjectMapper JSON = new ObjectMapper();

    static Path config(String model) {
        return ASSETS.resolve(model).resolve("package/models/tokenizer_config.json");
    }

    @TestFactory
    List<DynamicNode> everyTemplateRendersLikeTransformers() throws IOException {
        JsonNode conversations = JinjaEngineCasesTest.load("/templates/conversations.json");
        List<DynamicNode> perModel = new ArrayList<>();
        for (String model : MODELS) {
            JsonNode fixture = JinjaEngineCasesTest.load("/templates/chat-" + model + ".json");
            List<DynamicTest> tests = new ArrayList<>();
            for (Map.Entry<String, JsonNode> c : conversations.properties()) {
                tests.add(DynamicTest.dynamicTest(c.getKey(), () -> {
                    Path cfg = config(model);
                    assumeTrue(Files.exists(cfg), cfg + " is absent: run scripts/fetch-test-assets.sh");
                    JsonNode tc = JSON.readTree(Files.readString(cfg));
                    Map<String, String> specials = specialTokens(tc);
                    assertEquals(JSON.convertValue(fixture.get("special_tokens"), Map.class), specials, "special tokens from tokenizer_config.json");
                    ChatRenderer r = ChatRenderer.forTemplate(tc.get("chat_template").asText(), specials).withClock(JinjaEngineCasesTest.FIXED);
                    check(r, c.getValue(), fixture.get("results").get(c.getKey()));
                }));
            }
            perModel.add(DynamicContainer.dynamicContainer(model, tests));
        }
        return perModel;
    }

    static void check(ChatRenderer r, JsonNode conv, JsonNode expected) {
        List<?> messages = (List<?>) Values.fromJson(conv.get("messages"));
        List<?> tools = conv.has("tools") ? (List<?>) Values.fromJson(conv.get("tools")) : null;
        @SuppressWarnings("unchecked")
        Map<String, Object> kwargs = conv.has("kwargs") ? (Map<String, Object>) Values.fromJson(conv.get("kwargs")) : Map.of();
        boolean gen = conv.get("add_generation_prompt").asBoolean();
        if (expected.has("expected")) {
            assertEquals(expected.get("expected").asText(), r.render(messages, tools, gen, kwargs));
        } else if (expected.has("raised")) {
            assertThatThrownBy(() -> r.render(messages, tools, gen, kwargs)).isInstanceOf(RaisedException.class)
                    .extracting(e -> ((RaisedException) e).templateMessage()).isEqualTo(expected.get("raised").asText());
        } else {
            // jinja2 failed with a Python error (e.g. str + list); ours must fail too, with a position.
            assertThatThrownBy(() -> r.render(messages, tools, gen, kwargs)).isInstanceOf(TemplateException.class)
                    .isNotInstanceOf(RaisedException.class).hasMessageContaining("line");
        }
    }

    /** As make-template-fixtures.py: the special tokens set in tokenizer_config.json, strings or {"content": ...}. */
    static Map<String, String> specialTokens(JsonNode cfg) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            JsonNode v = cfg.path(k);
            if (v.isTextual()) out.put(k, v.asText());
            else if (v.path("content").isTextual()) out.put(k, v.get("content").asText());
        }
        return out;
    }

    /** The converted vocab GGUFs carry the same template, and their token ids give the same BOS/EOS texts. */
    @Test
    void convertedGgufCarriesTemplateAndSpecialTokens() throws IOException {
        for (String model : List.of("llama3", "qwen3")) {
            Path gguf = ASSETS.resolve(model + "-vocab.gguf");
            assumeTrue(Files.exists(gguf) && Files.exists(config(model)), gguf + " is absent: run scripts/fetch-test-assets.sh");
            JsonNode tc = JSON.readTree(Files.readString(config(model)));
            try (GGUFFile f = GGUFFile.open(gguf)) {
                assertThat(f.getString(ChatRenderer.TEMPLATE_KEY, null)).isEqualTo(tc.get("chat_template").asText());
                ChatRenderer r = ChatRenderer.forModel(f, null);
                Map<String, String> fromConfig = specialTokens(tc);
                assertThat(r.specialTokens()).containsEntry("eos_token", fromConfig.get("eos_token"));
                if (fromConfig.containsKey("bos_token")) assertThat(r.specialTokens()).containsEntry("bos_token", fromConfig.get("bos_token"));
                JsonNode conv = JinjaEngineCasesTest.load("/templates/conversations.json").get("multi_turn");
                JsonNode expected = JinjaEngineCasesTest.load("/templates/chat-" + model + ".json").get("results").get("multi_turn");
                check(r, conv, expected);
            }
        }
    }
}
