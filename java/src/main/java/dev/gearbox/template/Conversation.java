package dev.gearbox.template;

import java.util.List;
import java.util.Map;

/**
 * A chat request's conversation, as a chat template takes it: the messages (JSON-like values with
 * {@code role}, {@code content} as text or parts, assistant {@code tool_calls}, {@code tool_call_id}),
 * the tool definitions (null for none), extra template variables (vLLM's and llama.cpp's
 * {@code chat_template_kwargs}, e.g. {@code enable_thinking}) and whether the assistant's turn is
 * opened. {@code plainText}: the message contents joined by newlines, what a model without any chat
 * template reads (and what a gatekeeper that reads the last user turn takes it from).
 */
public record Conversation(List<?> messages, List<?> tools, Map<String, ?> kwargs, boolean addGenerationPrompt, String plainText,
                           String lastUserText) {
    public Conversation {
        if (messages == null || messages.isEmpty()) throw new IllegalArgumentException("a conversation needs at least one message");
        messages = List.copyOf(messages);
        tools = tools == null ? null : List.copyOf(tools);
        kwargs = kwargs == null ? Map.of() : Map.copyOf(kwargs);
        if (plainText == null) plainText = "";
        if (lastUserText == null) lastUserText = plainText;
    }
}
