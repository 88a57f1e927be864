package dev.gearbox.tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Chat prompt formats, rendered exactly as llama.cpp's built-in templates (llama-chat.cpp) render
 * them, and recognised from a GGUF's {@code tokenizer.chat_template} Jinja text by the same markers.
 *
 * <p><b>Where BOS comes from.</b> Like llama.cpp's built-ins, {@link #render} never writes a leading
 * BOS (the Jinja templates' {@code {{ bos_token }}}). Tokenize the rendered prompt with
 * {@code tokenizer.encode(prompt, true, true)}: the tokenizer adds BOS when the model wants it
 * (Llama 2/3, Mistral: yes; Qwen: no), and special-token parsing turns the markers
 * ({@code <|eot_id|>}, {@code <|im_start|>}, the {@code <s>} that {@code llama2-sys-bos} writes
 * between turns...) into their tokens. Adding "&lt;s&gt;" or "<|begin_of_text|>" to the text as
 * well would give a double BOS.
 */
public enum ChatTemplate {
    /** Llama 3/3.1/3.2/3.3: header markers, content trimmed, {@code <|eot_id|>} after each turn. */
    LLAMA3("llama3"),
    /** ChatML (Qwen 1.5-3, many others): {@code <|im_start|>role\ncontent<|im_end|>\n}. */
    CHATML("chatml"),
    /** Llama 2 format without a system block (a system message becomes a plain line); also what llama.cpp uses for "mistral". */
    LLAMA2("llama2"),
    /** Llama 2 with the {@code <<SYS>>} block. */
    LLAMA2_SYS("llama2-sys"),
    /** Llama 2 with {@code <<SYS>>} and a {@code <s>} before every later {@code [INST]}. */
    LLAMA2_SYS_BOS("llama2-sys-bos"),
    /** Llama 2 with {@code <<SYS>>}, message text trimmed (the official Llama 2 chat template). */
    LLAMA2_SYS_STRIP("llama2-sys-strip"),
    /** Mistral's official v1 template ({@code " [INST] "} with spaces around). */
    MISTRAL_V1("mistral-v1"),
    /** Mistral v3 (Mistral 7B Instruct v0.3, Mixtral): {@code [INST] user[/INST] answer</s>}. */
    MISTRAL_V3("mistral-v3"),
    /** Mistral v3 with the Tekken tokenizer (Nemo): no space after {@code [INST]}. */
    MISTRAL_V3_TEKKEN("mistral-v3-tekken"),
    /** Mistral v7 (Mistral Large 2411, Small 3): {@code [SYSTEM_PROMPT]} blocks. */
    MISTRAL_V7("mistral-v7"),
    /** Mistral v7 without the spaces (Tekken tokenizer). */
    MISTRAL_V7_TEKKEN("mistral-v7-tekken");

    private final String id;

    ChatTemplate(String id) {
        this.id = id;
    }

    /** llama.cpp's name for this template (what {@code --chat-template} takes). */
    public String id() { return id; }

    @Override
    public String toString() { return id; }

    /** Every accepted name, for messages. */
    public static String names() {
        return Arrays.stream(values()).map(ChatTemplate::id).collect(Collectors.joining(", ")) + ", mistral (= llama2, as in llama.cpp)";
    }

    /**
     * The template with llama.cpp's name {@code name} (case-insensitive). "mistral" gives
     * {@link #LLAMA2}, the format of Mistral 7B Instruct v0.1/v0.2, as llama.cpp does.
     */
    public static ChatTemplate byName(String name) {
        if (name == null) throw new IllegalArgumentException("chat template name is null; choose one of: " + names());
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.equals("mistral")) return LLAMA2;
        for (ChatTemplate t : values()) if (t.id.equals(n)) return t;
        throw new IllegalArgumentException("unknown chat template '" + name + "'; choose one of: " + names());
    }

    /**
     * The built-in template matching a Jinja chat template (a GGUF's {@code tokenizer.chat_template}),
     * by the markers llama.cpp's llm_chat_detect_template looks for. A bare template name is accepted too.
     *
     * @throws IllegalArgumentException when the template is none of ours, naming the choices
     */
    public static ChatTemplate detect(String jinja) {
        if (jinja == null || jinja.isBlank()) {
            throw new IllegalArgumentException("no chat template given (the GGUF has no tokenizer.chat_template?); choose one of: " + names());
        }
        for (ChatTemplate t : values()) if (t.id.equals(jinja)) return t;
        if (jinja.contains("<|im_start|>")) {
            if (jinja.contains("<|im_sep|>") || jinja.contains("<end_of_utterance>")) {
                throw unknown("it uses <|im_start|> but is Phi-4 or SmolVLM style, not plain ChatML");
            }
            return CHATML;
        }
        if (jinja.startsWith("mistral") || jinja.contains("[INST]")) {
            if (jinja.contains("[SYSTEM_PROMPT]")) return MISTRAL_V7;
            if (jinja.contains("' [INST] ' + system_message") || jinja.contains("[AVAILABLE_TOOLS]")) {
                if (jinja.contains(" [INST]")) return MISTRAL_V1;
                if (jinja.contains("\"[INST]\"")) return MISTRAL_V3_TEKKEN;
                return MISTRAL_V3;
            }
            if (jinja.contains("content.strip()")) return LLAMA2_SYS_STRIP;
            if (jinja.contains("bos_token + '[INST]")) return LLAMA2_SYS_BOS;
            if (jinja.contains("<<SYS>>")) return LLAMA2_SYS;
            return LLAMA2;
        }
        if (jinja.contains("<|start_header_id|>") && jinja.contains("<|end_header_id|>")) return LLAMA3;
        throw unknown("none of the markers <|im_start|>, [INST], <|start_header_id|> was found");
    }

    private static IllegalArgumentException unknown(String why) {
        return new IllegalArgumentException("unsupported chat template (" + why + "); built-in templates: " + names());
    }

    /**
     * The prompt text for {@code messages}; {@code addAssistantPrompt} appends the opening of the
     * assistant's turn where the format has one (Llama 3, ChatML; the [INST] formats end a user turn
     * with {@code [/INST]} already). No BOS is written at the start: see the class comment.
     */
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
        StringBuilder sb = new StringBuilder();
        switch (this) {
            case LLAMA3 -> {
                for (ChatMessage m : messages) {
                    sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                            .append(trim(m.content())).append("<|eot_id|>");
                }
                if (addAssistantPrompt) sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            case CHATML -> {
                for (ChatMessage m : messages) {
                    sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
                }
                if (addAssistantPrompt) sb.append("<|im_start|>assistant\n");
            }
            case LLAMA2, LLAMA2_SYS, LLAMA2_SYS_BOS, LLAMA2_SYS_STRIP -> {
                boolean systemBlock = this != LLAMA2;
                boolean bosInHistory = this == LLAMA2_SYS_BOS;
                boolean strip = this == LLAMA2_SYS_STRIP;
                boolean insideTurn = true; // the first [INST] is written up front; BOS comes from the tokenizer
                sb.append("[INST] ");
                for (ChatMessage m : messages) {
                    String content = strip ? trim(m.content()) : m.content();
                    if (!insideTurn) {
                        insideTurn = true;
                        sb.append(bosInHistory ? "<s>[INST] " : "[INST] ");
                    }
                    switch (m.role()) {
                        case "system" -> sb.append(systemBlock ? "<<SYS>>\n" + content + "\n<</SYS>>\n\n" : content + "\n");
                        case "user" -> sb.append(content).append(" [/INST]");
                        default -> {
                            sb.append(content).append("</s>");
                            insideTurn = false;
                        }
                    }
                }
            }
            case MISTRAL_V1, MISTRAL_V3, MISTRAL_V3_TEKKEN -> {
                String lead = this == MISTRAL_V1 ? " " : "";
                String trail = this == MISTRAL_V3_TEKKEN ? "" : " ";
                boolean trimAssistant = this == MISTRAL_V3;
                boolean insideTurn = false;
                for (ChatMessage m : messages) {
                    if (!insideTurn) {
                        sb.append(lead).append("[INST]").append(trail);
                        insideTurn = true;
                    }
                    switch (m.role()) {
                        case "system" -> sb.append(m.content()).append("\n\n");
                        case "user" -> sb.append(m.content()).append(lead).append("[/INST]");
                        default -> {
                            sb.append(trail).append(trimAssistant ? trim(m.content()) : m.content()).append("</s>");
                            insideTurn = false;
                        }
                    }
                }
            }
            case MISTRAL_V7, MISTRAL_V7_TEKKEN -> {
                String sp = this == MISTRAL_V7 ? " " : "";
                for (ChatMessage m : messages) {
                    switch (m.role()) {
                        case "system" -> sb.append("[SYSTEM_PROMPT]").append(sp).append(m.content()).append("[/SYSTEM_PROMPT]");
                        case "user" -> sb.append("[INST]").append(sp).append(m.content()).append("[/INST]");
                        default -> sb.append(sp).append(m.content()).append("</s>");
                    }
                }
            }
        }
        return sb.toString();
    }

    /** C's isspace in the "C" locale, as llama.cpp's trim uses: space, \t, \n, \v, \f, \r. */
    static String trim(String s) {
        int start = 0, end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
