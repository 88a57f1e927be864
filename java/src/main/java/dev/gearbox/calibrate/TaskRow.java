package dev.gearbox.calibrate;

import dev.gearbox.tokenizer.ChatMessage;
import dev.gearbox.tokenizer.ChatTemplate;

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

    /**
     * The prompt a tier sees: a chat row rendered with the tier's chat template when it has one
     * (assistant turn opened), else the plain text.
     */
    public String promptFor(ChatTemplate template) {
        if (messages == null || template == null) return text;
        return template.render(messages, true);
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
