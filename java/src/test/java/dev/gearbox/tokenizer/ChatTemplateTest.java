package dev.gearbox.tokenizer;

import dev.gearbox.Require;

import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ChatTemplateTest {
    static final List<ChatMessage> CHAT = List.of(
            ChatMessage.system("You are helpful."),
            ChatMessage.user("Hello"),
            ChatMessage.assistant("Hi there"),
            ChatMessage.user("How are you?"));

    // Representative excerpts of the real Jinja templates, with the parts detection keys on.
    static final String LLAMA3_JINJA = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
            + "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
    static final String QWEN2_JINJA = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    static final String LLAMA2_JINJA = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
            + "{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
    static final String MISTRAL_V01_JINJA = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}";
    static final String MISTRAL_V03_JINJA = "{%- if messages[0][\"role\"] == \"system\" %}{%- set system_message = messages[0][\"content\"] %}"
            + "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}"
            + "{%- for message in loop_messages %}{%- if message[\"role\"] == \"user\" %}{%- if tools is not none and (message == user_messages[-1]) %}"
            + "{{- \"[AVAILABLE_TOOLS] [\" }}{{- \"[/AVAILABLE_TOOLS]\" }}{%- endif %}{%- if loop.last and system_message is defined %}"
            + "{{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}{%- else %}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}"
            + "{%- endif %}{%- elif message[\"role\"] == \"assistant\" %}{{- \" \" + message[\"content\"]|trim + eos_token}}{%- endif %}{%- endfor %}";
    static final String MISTRAL_NEMO_JINJA = MISTRAL_V03_JINJA.replace("\"[INST] \"", "\"[INST]\"");
    static final String MISTRAL_V7_JINJA = "{{- bos_token }}{%- if system_message is defined %}{{- '[SYSTEM_PROMPT]' + system_message + '[/SYSTEM_PROMPT]' }}{%- endif %}"
            + "{%- for message in loop_messages %}{%- if message['role'] == 'user' %}{{- '[INST]' + message['content'] + '[/INST]' }}"
            + "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}{%- endif %}{%- endfor %}";
    static final String GEMMA_JINJA = "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim"
            + " + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

    @Test
    void llama3() {
        assertThat(ChatTemplate.LLAMA3.render(CHAT, true)).isEqualTo(
                "<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        // content is trimmed (the Jinja "| trim"), and without the assistant prompt the text ends after the last turn
        assertThat(ChatTemplate.LLAMA3.render(List.of(ChatMessage.user("  hi \n")), false))
                .isEqualTo("<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
    }

    @Test
    void chatml() {
        assertThat(ChatTemplate.CHATML.render(CHAT, true)).isEqualTo(
                "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                        + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(ChatTemplate.CHATML.render(List.of(ChatMessage.user("x")), false)).isEqualTo("<|im_start|>user\nx<|im_end|>\n");
    }

    @Test
    void llama2Variants() {
        assertThat(ChatTemplate.LLAMA2_SYS_STRIP.render(CHAT, true))
                .isEqualTo("[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] How are you? [/INST]");
        assertThat(ChatTemplate.LLAMA2_SYS.render(CHAT, true))
                .isEqualTo("[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] How are you? [/INST]");
        assertThat(ChatTemplate.LLAMA2_SYS_BOS.render(CHAT, true))
                .isEqualTo("[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] How are you? [/INST]");
        assertThat(ChatTemplate.LLAMA2.render(CHAT, true))
                .isEqualTo("[INST] You are helpful.\nHello [/INST]Hi there</s>[INST] How are you? [/INST]");
        assertThat(ChatTemplate.LLAMA2_SYS_STRIP.render(List.of(ChatMessage.user(" padded ")), true)).isEqualTo("[INST] padded [/INST]");
        assertThat(ChatTemplate.LLAMA2_SYS.render(List.of(ChatMessage.user(" padded ")), true)).isEqualTo("[INST]  padded  [/INST]");
    }

    @Test
    void mistralVariants() {
        assertThat(ChatTemplate.byName("mistral")).as("llama.cpp renders 'mistral' with its llama2 template").isEqualTo(ChatTemplate.LLAMA2);
        assertThat(ChatTemplate.MISTRAL_V1.render(CHAT, true))
                .isEqualTo(" [INST] You are helpful.\n\nHello [/INST] Hi there</s> [INST] How are you? [/INST]");
        assertThat(ChatTemplate.MISTRAL_V3.render(CHAT, true))
                .isEqualTo("[INST] You are helpful.\n\nHello[/INST] Hi there</s>[INST] How are you?[/INST]");
        assertThat(ChatTemplate.MISTRAL_V3_TEKKEN.render(CHAT, true))
                .isEqualTo("[INST]You are helpful.\n\nHello[/INST]Hi there</s>[INST]How are you?[/INST]");
        assertThat(ChatTemplate.MISTRAL_V7.render(CHAT, true))
                .isEqualTo("[SYSTEM_PROMPT] You are helpful.[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] How are you?[/INST]");
        assertThat(ChatTemplate.MISTRAL_V7_TEKKEN.render(CHAT, true))
                .isEqualTo("[SYSTEM_PROMPT]You are helpful.[/SYSTEM_PROMPT][INST]Hello[/INST]Hi there</s>[INST]How are you?[/INST]");
        // v3 trims the assistant's answer
        assertThat(ChatTemplate.MISTRAL_V3.render(List.of(ChatMessage.user("q"), ChatMessage.assistant(" a ")), false))
                .isEqualTo("[INST] q[/INST] a</s>");
    }

    @Test
    void detectsTheRealTemplates() {
        assertThat(ChatTemplate.detect(LLAMA3_JINJA)).isEqualTo(ChatTemplate.LLAMA3);
        assertThat(ChatTemplate.detect(QWEN2_JINJA)).isEqualTo(ChatTemplate.CHATML);
        assertThat(ChatTemplate.detect(LLAMA2_JINJA)).isEqualTo(ChatTemplate.LLAMA2_SYS_STRIP);
        assertThat(ChatTemplate.detect(MISTRAL_V01_JINJA)).isEqualTo(ChatTemplate.LLAMA2);
        assertThat(ChatTemplate.detect(MISTRAL_V03_JINJA)).isEqualTo(ChatTemplate.MISTRAL_V3);
        assertThat(ChatTemplate.detect(MISTRAL_NEMO_JINJA)).isEqualTo(ChatTemplate.MISTRAL_V3_TEKKEN);
        assertThat(ChatTemplate.detect(MISTRAL_V7_JINJA)).isEqualTo(ChatTemplate.MISTRAL_V7);
        assertThat(ChatTemplate.detect("chatml")).as("a bare name").isEqualTo(ChatTemplate.CHATML);
    }

    @Test
    void detectsTemplatesStoredInConvertedVocabs() throws Exception {
        Path l = TokenizerVectorTest.ASSETS.resolve("llama3-vocab.gguf");
        Path q = TokenizerVectorTest.ASSETS.resolve("qwen3-vocab.gguf");
        Require.capability("assets", Files.exists(l) && Files.exists(q), "target/test-assets/*.gguf are absent: run scripts/fetch-test-assets.sh");
        try (GGUFFile lf = GGUFFile.open(l); GGUFFile qf = GGUFFile.open(q)) {
            assertThat(ChatTemplate.detect(lf.getString(Tokenizers.CHAT_TEMPLATE, null))).isEqualTo(ChatTemplate.LLAMA3);
            assertThat(ChatTemplate.detect(qf.getString(Tokenizers.CHAT_TEMPLATE, null))).isEqualTo(ChatTemplate.CHATML);
            // The rendered prompt tokenized with addSpecial gets exactly one BOS, from the tokenizer.
            VocabTokenizer llama = Tokenizers.fromGGUF(lf);
            int[] ids = llama.encode(ChatTemplate.LLAMA3.render(List.of(ChatMessage.user("Hi")), true), true, true);
            assertThat(ids[0]).isEqualTo(128000);
            assertThat(ids[1]).isEqualTo(128006);
            assertThat(java.util.Arrays.stream(ids).filter(i -> i == 128000).count()).isEqualTo(1);
        }
    }

    @Test
    void unknownTemplatesAreClearErrors() {
        assertThatThrownBy(() -> ChatTemplate.detect(GEMMA_JINJA)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("unsupported chat template", "llama3", "chatml", "llama2", "mistral");
        assertThatThrownBy(() -> ChatTemplate.detect(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chatml");
        assertThatThrownBy(() -> ChatTemplate.detect("{{ '<|im_start|>' }}<|im_sep|>")).hasMessageContaining("Phi-4");
        assertThatThrownBy(() -> ChatTemplate.byName("vicuna")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("unknown chat template 'vicuna'", "llama3", "chatml", "mistral-v7");
        assertThat(ChatTemplate.byName("Llama3")).isEqualTo(ChatTemplate.LLAMA3);
    }
}
