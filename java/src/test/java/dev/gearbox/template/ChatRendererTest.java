package dev.gearbox.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.tokenizer.ChatTemplate;
import dev.gearbox.tokenizer.HfVocabConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Template choice (default, tool_use variant, override text, built-in name), special tokens from ids, message shapes. */
class ChatRendererTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A vocab-only GGUF made by HfVocabConverter from a tiny tokenizer.json and a config with named templates. */
    static Path vocabWithTemplates(Path dir, String chatTemplateJson) throws Exception {
        Path tok = dir.resolve("tokenizer.json"), cfg = dir.resolve("tokenizer_config.json");
        Files.writeString(tok, """
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "<s>": 2, "</s>": 3, "<unk>": 4}, "merges": []},
                 "added_tokens": [{"id": 2, "content": "<s>", "special": true}, {"id": 3, "content": "</s>", "special": true},
                                  {"id": 4, "content": "<unk>", "special": true}]}""");
        Files.writeString(cfg, "{\"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"</s>\", \"unk_token\": \"<unk>\", \"chat_template\": "
                + chatTemplateJson + "}");
        Path out = dir.resolve("vocab.gguf");
        HfVocabConverter.convert(tok, cfg, "gpt2", null, "t").write(out);
        return out;
    }

    @Test
    void namedTemplatesFollowTransformersChoice(@TempDir Path dir) throws Exception {
        Path gguf = vocabWithTemplates(dir, """
                [{"name": "default", "template": "D{{ bos_token }}{{ messages|length }}{{ eos_token }}{{ unk_token }}{{ tools }}"},
                 {"name": "tool_use", "template": "T{{ tools|length }}{{ add_generation_prompt }}"}]""");
        List<Map<String, Object>> msgs = List.of(Map.of("role", "user", "content", "hi"));
        try (GGUFFile f = GGUFFile.open(gguf)) {
            assertThat(f.getStrings(ChatRenderer.TEMPLATE_KEY + "s")).containsExactly("tool_use");
            ChatRenderer r = ChatRenderer.forModel(f, null);
            assertThat(r.templateNames()).containsExactly("default", "tool_use");
            assertThat(r.specialTokens()).containsEntry("bos_token", "<s>").containsEntry("eos_token", "</s>").containsEntry("unk_token", "<unk>");
            assertThat(r.render(msgs, null, true, null)).isEqualTo("D<s>1</s><unk>None");
            assertThat(r.render(msgs, List.of(), false, null)).as("tools given, even empty: tool_use").isEqualTo("T0False");
            assertThat(ChatRenderer.forModel(f, "O{{ bos_token }}{{ x }}").render(msgs, null, true, Map.of("x", 5))).isEqualTo("O<s>5");
            assertThat(ChatRenderer.forModel(f, "chatml").render(msgs, null, true, null)).isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
        }
    }

    @Test
    void modelWithoutTemplateNeedsAnOverride(@TempDir Path dir) throws Exception {
        Path gguf = vocabWithTemplates(dir, "null");
        try (GGUFFile f = GGUFFile.open(gguf)) {
            assertThatThrownBy(() -> ChatRenderer.forModel(f, null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no tokenizer.chat_template").hasMessageContaining("llama3");
            assertThat(ChatRenderer.forModel(f, "llama3").render(List.of(Map.of("role", "user", "content", " x ")), null, false, null))
                    .isEqualTo(ChatTemplate.LLAMA3.render(List.of(dev.gearbox.tokenizer.ChatMessage.user(" x ")), false));
        }
    }

    @Test
    void badTemplateFailsWhenLoadedNamingTheKey(@TempDir Path dir) throws Exception {
        Path gguf = vocabWithTemplates(dir, "\"{% for %}\"");
        try (GGUFFile f = GGUFFile.open(gguf)) {
            assertThatThrownBy(() -> ChatRenderer.forModel(f, null)).isInstanceOf(TemplateException.class)
                    .hasMessageContaining("tokenizer.chat_template does not parse");
        }
    }

    @Test
    void jacksonMessagesWithToolCallsAndContentParts() throws Exception {
        JsonNode msgs = JSON.readTree("""
                [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                 {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"z": 1, "a": "ü"}}},
                                                                       {"function": {"name": "g", "arguments": "{\\"k\\": 2}"}}]},
                 {"role": "tool", "tool_call_id": "1", "name": "f", "content": "ok"}]""");
        String t = """
                {%- for m in messages -%}
                {{ m.role }}:
                {%- if m.content is string %}{{ m.content }}{% elif m.content %}{% for p in m.content %}{{ p.text }}{% endfor %}{% endif %}
                {%- for c in m.tool_calls|default([]) %}[{{ c.function.name }} {{ c.function.arguments if c.function.arguments is string else c.function.arguments|tojson }}]{% endfor %}
                {%- if m.tool_call_id is defined %}({{ m.tool_call_id }} {{ m.name }}){% endif %};
                {%- endfor %}""";
        List<?> list = (List<?>) Values.fromJson(msgs);
        String out = ChatRenderer.forTemplate(t, Map.of()).render(list, null, false, null);
        assertThat(out).isEqualTo("user:ab;assistant:[f {\"z\": 1, \"a\": \"ü\"}][g {\"k\": 2}];tool:ok(1 f);");
    }
}
