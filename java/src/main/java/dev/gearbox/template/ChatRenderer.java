package dev.gearbox.template;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.tokenizer.ChatMessage;
import dev.gearbox.tokenizer.ChatTemplate;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a conversation into the prompt text a model was trained on, as Hugging Face transformers'
 * {@code apply_chat_template} does: the model's own Jinja chat template rendered with
 * {@code messages}, {@code tools} (None when not given), {@code documents} (None),
 * {@code add_generation_prompt}, the special tokens as text ({@code bos_token}, {@code eos_token},
 * {@code unk_token}, {@code pad_token}) and any extra keyword arguments ({@code enable_thinking}...).
 *
 * <p>Which template: an override (template text, as llama.cpp's {@code --chat-template-file}, or a
 * built-in {@link ChatTemplate} name), else the GGUF's {@code tokenizer.chat_template}, or its named
 * variant {@code tokenizer.chat_template.tool_use} when tools are given and it exists (HF's rule).
 * A built-in format renders as llama.cpp's built-ins do, without the leading BOS (see {@link ChatTemplate}).
 *
 * <p><b>BOS.</b> Unlike the built-in formats, a model's template often writes {@code {{ bos_token }}}
 * itself (Llama 3, Gemma, DeepSeek), exactly as transformers does. A caller that tokenizes the prompt
 * with a tokenizer that adds BOS too must drop one of the two (llama.cpp strips the template's leading
 * BOS text in that case); the rendered text itself stays byte-identical to transformers'.
 *
 * <p>Messages and tools are JSON-like values: Maps, Lists, Strings, numbers, booleans, null, or
 * Jackson nodes; assistant {@code tool_calls} arguments are passed as given (object or string).
 */
public final class ChatRenderer {
    public static final String TEMPLATE_KEY = "tokenizer.chat_template";
    private static final String[][] SPECIAL_TOKEN_KEYS = {
            {"bos_token", "tokenizer.ggml.bos_token_id"}, {"eos_token", "tokenizer.ggml.eos_token_id"},
            {"unk_token", "tokenizer.ggml.unknown_token_id"}, {"pad_token", "tokenizer.ggml.padding_token_id"}};

    /** Named Jinja templates ("default" = tokenizer.chat_template); empty when {@link #builtIn} is used. */
    private final Map<String, Template> templates;
    private final ChatTemplate builtIn;
    private final Map<String, String> specialTokens;
    private final Clock clock;

    private ChatRenderer(Map<String, Template> templates, ChatTemplate builtIn, Map<String, String> specialTokens, Clock clock) {
        this.templates = templates;
        this.builtIn = builtIn;
        this.specialTokens = Map.copyOf(specialTokens);
        this.clock = clock;
    }

    /** The renderer for a model file: see {@link #forMetadata}. */
    public static ChatRenderer forModel(GGUFFile f, String override) {
        return forMetadata(f.metadata(), override);
    }

    /**
     * The renderer for a model's metadata. {@code override} (may be null): a built-in template name
     * ({@link ChatTemplate#byName}) or Jinja template text that replaces the model's own.
     *
     * @throws IllegalArgumentException when there is no override and the metadata has no chat template
     * @throws TemplateException when a template does not parse
     */
    public static ChatRenderer forMetadata(Map<String, GGUFValue> metadata, String override) {
        Map<String, String> specials = specialTokens(metadata);
        if (override != null) {
            ChatTemplate named = builtInNamed(override);
            if (named != null) return new ChatRenderer(Map.of(), named, specials, Clock.systemDefaultZone());
            return forTemplate(override, specials);
        }
        Map<String, Template> templates = new TreeMap<>();
        for (Map.Entry<String, GGUFValue> e : metadata.entrySet()) {
            String key = e.getKey();
            if (!(e.getValue().value() instanceof String text)) continue;
            if (key.equals(TEMPLATE_KEY)) templates.put("default", parse(text, key));
            else if (key.startsWith(TEMPLATE_KEY + ".")) templates.put(key.substring(TEMPLATE_KEY.length() + 1), parse(text, key));
        }
        if (templates.isEmpty()) {
            throw new IllegalArgumentException("the model has no " + TEMPLATE_KEY + "; give a template file or one of the built-in templates: "
                    + ChatTemplate.names());
        }
        return new ChatRenderer(templates, null, specials, Clock.systemDefaultZone());
    }

    /** A renderer for Jinja text with the given special tokens (e.g. {@code bos_token -> "<s>"}). */
    public static ChatRenderer forTemplate(String jinja, Map<String, String> specialTokens) {
        return new ChatRenderer(Map.of("default", parse(jinja, "the chat template")), null, specialTokens, Clock.systemDefaultZone());
    }

    /** A renderer for one of the built-in formats. */
    public static ChatRenderer builtIn(ChatTemplate t, Map<String, String> specialTokens) {
        return new ChatRenderer(Map.of(), t, specialTokens, Clock.systemDefaultZone());
    }

    /** The same renderer reading {@code clock} for {@code strftime_now}. */
    public ChatRenderer withClock(Clock c) { return new ChatRenderer(templates, builtIn, specialTokens, c); }

    /** The special tokens passed to the template, by variable name. */
    public Map<String, String> specialTokens() { return specialTokens; }

    /** The names of the model's templates ("default" for tokenizer.chat_template), empty for a built-in. */
    public List<String> templateNames() { return List.copyOf(templates.keySet()); }

    /**
     * The prompt for {@code messages}.
     *
     * @param tools OpenAI-style tool definitions, or null for none (the template then sees None)
     * @param kwargs extra template variables (may be null), e.g. {@code enable_thinking}
     * @throws RaisedException when the template rejects the conversation with raise_exception
     * @throws TemplateException when rendering fails otherwise
     */
    public String render(List<?> messages, List<?> tools, boolean addGenerationPrompt, Map<String, ?> kwargs) {
        if (builtIn != null) return builtIn.render(chatMessages(messages), addGenerationPrompt);
        Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
        if (kwargs != null) vars.putAll(kwargs);
        vars.put("messages", messages);
        vars.put("tools", tools);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        return pick(tools).render(vars, clock);
    }

    /** HF's choice among named templates: "tool_use" when tools are given and it exists, else the default. */
    private Template pick(List<?> tools) {
        if (tools != null && templates.containsKey("tool_use")) return templates.get("tool_use");
        Template t = templates.get("default");
        if (t != null) return t;
        throw new IllegalArgumentException("the model has named chat templates " + templates.keySet() + " but no default one");
    }

    private static Template parse(String text, String what) {
        try {
            return Template.parse(text);
        } catch (TemplateException e) {
            throw new TemplateException(what + " does not parse: " + e.getMessage(), e.line(), e.column(), e);
        }
    }

    private static ChatTemplate builtInNamed(String s) {
        try {
            return ChatTemplate.byName(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Token ids in the metadata turned into their texts, as llama.cpp hands them to templates. */
    static Map<String, String> specialTokens(Map<String, GGUFValue> metadata) {
        Map<String, String> out = new LinkedHashMap<>();
        GGUFValue toks = metadata.get("tokenizer.ggml.tokens");
        if (toks == null || !(toks.value() instanceof String[] tokens)) return out;
        for (String[] k : SPECIAL_TOKEN_KEYS) {
            GGUFValue v = metadata.get(k[1]);
            if (v != null && v.value() instanceof Long id && id >= 0 && id < tokens.length) out.put(k[0], tokens[(int) (long) id]);
        }
        return out;
    }

    /** Messages as the built-in formats take them: content strings, text parts joined. */
    private static List<ChatMessage> chatMessages(List<?> messages) {
        List<ChatMessage> out = new ArrayList<>();
        for (Object m : messages) {
            if (!(Values.fromJava(m) instanceof Map<?, ?> map)) throw new IllegalArgumentException("a message must be an object with role and content");
            Object role = map.get("role");
            Object content = map.get("content");
            StringBuilder text = new StringBuilder();
            if (content instanceof List<?> parts) {
                for (Object p : parts) if (p instanceof Map<?, ?> pm && pm.get("text") instanceof String s) text.append(s);
            } else if (content != null) {
                text.append(Py.str(content));
            }
            out.add(new ChatMessage(role == null ? "user" : Py.str(role), text.toString()));
        }
        return out;
    }
}
