package dev.gearbox.calibrate;

import dev.gearbox.ladder.Tier;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.schedule.Request;
import dev.gearbox.template.ChatPrompt;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.template.Conversation;
import dev.gearbox.tokenizer.ChatMessage;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One prompt of a calibration or evaluation set.
 *
 * @param line      1-based line in the source file (for messages)
 * @param id        the row's id ({@code id} or {@code question_id}), else "line-N"
 * @param messages  the conversation of a chat row (no trailing assistant turn), or null for a plain prompt
 * @param text      the plain prompt (for chat rows: the user contents joined by newlines)
 * @param reference the expected answer, or null when the row is graded by agreement with the largest tier
 * @param grade     how the reference is compared (ignored without a reference)
 * @param extras    other fields of the row kept for reports ({@code task}, {@code level}, {@code category}...)
 */
public record TaskRow(int line, String id, List<ChatMessage> messages, String text, String reference,
                      GradeMode grade, Map<String, Object> extras) {

    public TaskRow {
        messages = messages == null ? null : List.copyOf(messages);
        extras = Map.copyOf(extras);
    }

    /** A plain prompt row (what tests and the task suite use). */
    public static TaskRow plain(String id, String text, String reference, GradeMode grade) {
        return new TaskRow(0, id, null, text, reference, grade, Map.of());
    }

    public boolean hasReference() { return reference != null; }

    /** A chat row's conversation (assistant turn opened), or null for a plain prompt. */
    public Conversation conversation() {
        if (messages == null) return null;
        List<Map<String, Object>> m = messages.stream().map(x -> Map.<String, Object>of("role", x.role(), "content", x.content())).toList();
        String lastUser = messages.stream().filter(x -> x.role().equals("user")).reduce((a, b) -> b).map(ChatMessage::content).orElse(text);
        return new Conversation(m, null, null, true, text, lastUser);
    }

    /** The request that answers this row on {@code model}: the conversation of a chat row (each tier renders it), else the text. */
    public Request request(String model, SamplingParams params) {
        Conversation c = conversation();
        return c != null ? Request.ofChat(model, c, params) : Request.of(model, text, params);
    }

    /** The prompt text a tier sees (the rendered conversation of a chat row): what answers are cached under. */
    public String promptFor(Tier tier) {
        return promptFor(tier.chatRenderer());
    }

    /** The prompt text {@code renderer} makes of a chat row (null: the plain text, as for a model without a template). */
    public String promptFor(ChatRenderer renderer) {
        Conversation c = conversation();
        return c == null ? text : ChatPrompt.text(renderer, c);
    }

    /** The user contents of a conversation joined by newlines: the prompt for tiers without a chat template. */
    static String userText(List<ChatMessage> messages) {
        return messages.stream().filter(m -> m.role().equals("user")).map(ChatMessage::content).collect(Collectors.joining("\n"));
    }

    /** A field kept for reports, as text, or null. */
    public String extra(String key) {
        Object v = extras.get(key);
        return v == null ? null : String.valueOf(v);
    }
}
