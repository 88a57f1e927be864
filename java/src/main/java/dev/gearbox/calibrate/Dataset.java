package dev.gearbox.calibrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.tokenizer.ChatMessage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads prompt sets from JSONL, one object a line, in any of these shapes (mixed freely):
 * <ul>
 *   <li>{@code {"prompt": "...", "reference": "...", "grade": "exact|numeric|contains", ...}}: reference and
 *       grade optional (grade defaults to exact); any other field ({@code task}, {@code level}) is kept for reports;</li>
 *   <li>GSM8K {@code {"question": "...", "answer": "... #### 18"}}: graded numerically against the number after {@code #### };</li>
 *   <li>OpenAI chat {@code {"messages": [{"role": "user", "content": "..."}, ...]}}: a trailing assistant
 *       message is the reference (unless the row has a {@code reference}), not part of the prompt;</li>
 *   <li>MT-Bench {@code {"question_id": 81, "category": "...", "turns": ["...", "..."]}}: the first turn is the prompt;
 *       a per-turn {@code reference} array is judge guidance, kept for reports and graded (first turn) only when
 *       the row also names a {@code grade}.</li>
 * </ul>
 * Rows without a reference are graded by agreement with the largest tier. Blank lines are skipped;
 * any other bad line fails with its file, line number and the reason.
 */
public final class Dataset {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> CONSUMED = Set.of("id", "prompt", "reference", "grade", "messages", "question", "answer", "turns", "question_id");

    private Dataset() {}

    public static List<TaskRow> read(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r, file.toString());
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "data file not found");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text", e);
        }
    }

    public static List<TaskRow> parse(String jsonl, String source) {
        try {
            return read(new BufferedReader(new StringReader(jsonl)), source);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<TaskRow> read(Reader in, String source) throws IOException {
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        List<TaskRow> rows = new ArrayList<>();
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
            n++;
            if (line.isBlank()) continue;
            try {
                rows.add(row(line, n));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ":" + n + ": " + e.getMessage(), e);
            }
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(source + ": no rows (the file is empty)");
        return rows;
    }

    private static TaskRow row(String line, int n) {
        JsonNode o;
        try {
            o = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (o == null || !o.isObject()) throw new IllegalArgumentException("expected a JSON object, found " + (o == null ? "nothing" : o.getNodeType().toString().toLowerCase()));

        String id = o.has("id") ? scalar(o, "id") : o.has("question_id") ? scalar(o, "question_id") : "line-" + n;
        GradeMode grade = o.has("grade") ? GradeMode.parse(string(o, "grade")) : null;
        String reference = null;
        boolean turnReferences = o.has("turns") && o.path("reference").isArray();
        if (turnReferences) {
            // MT-Bench's per-turn references guide a judge; they grade only when the row names a grade.
            JsonNode first = o.get("reference").path(0);
            if (grade != null && first.isValueNode() && !first.isNull()) reference = first.asText();
        } else if (o.has("reference")) {
            reference = scalar(o, "reference");
        }
        List<ChatMessage> messages = null;
        String text;

        if (o.has("prompt")) {
            text = string(o, "prompt");
        } else if (o.has("messages")) {
            messages = messages(o.get("messages"));
            ChatMessage last = messages.getLast();
            if (last.role().equals("assistant")) {
                messages = messages.subList(0, messages.size() - 1);
                if (reference == null) reference = last.content().strip();
            }
            text = TaskRow.userText(messages);
            if (messages.stream().noneMatch(m -> m.role().equals("user"))) throw new IllegalArgumentException("'messages' has no user message");
        } else if (o.has("question") && o.has("answer")) {
            text = string(o, "question");
            if (reference == null) {
                String answer = string(o, "answer");
                int at = answer.lastIndexOf("####");
                if (at < 0) throw new IllegalArgumentException("GSM8K 'answer' has no '#### ' final answer");
                reference = answer.substring(at + 4).strip();
                if (grade == null) grade = GradeMode.NUMERIC;
            }
        } else if (o.has("turns")) {
            JsonNode turns = o.get("turns");
            if (!turns.isArray() || turns.isEmpty() || !turns.get(0).isTextual()) throw new IllegalArgumentException("'turns' must be a non-empty array of strings");
            text = turns.get(0).asText();
        } else {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            throw new IllegalArgumentException("a row needs 'prompt', 'messages', 'question' with 'answer', or 'turns' (found keys " + keys + ")");
        }

        if (text.isBlank()) throw new IllegalArgumentException("the prompt is empty");
        if (grade != null && reference == null) throw new IllegalArgumentException("'grade' is " + grade.id() + " but the row has no 'reference'");
        if (grade == null) grade = GradeMode.EXACT;
        if (reference != null && grade == GradeMode.NUMERIC && Grader.referenceNumber(reference) == null) {
            throw new IllegalArgumentException("numeric grade but the reference '" + reference + "' is not a number");
        }
        if (reference != null && reference.isBlank()) throw new IllegalArgumentException("'reference' is empty");

        Map<String, Object> extras = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (CONSUMED.contains(f.getKey()) && !(turnReferences && f.getKey().equals("reference")) || f.getValue().isNull()) continue;
            JsonNode v = f.getValue();
            extras.put(f.getKey(), v.isIntegralNumber() ? (Object) v.asLong() : v.isNumber() ? (Object) v.asDouble() : v.isTextual() ? v.asText() : v.toString());
        }
        return new TaskRow(n, id, messages, text, reference, grade, extras);
    }

    private static List<ChatMessage> messages(JsonNode a) {
        if (!a.isArray() || a.isEmpty()) throw new IllegalArgumentException("'messages' must be a non-empty array");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            JsonNode m = a.get(i);
            if (!m.isObject() || !m.path("role").isTextual()) throw new IllegalArgumentException("messages[" + i + "] needs a 'role' string");
            out.add(new ChatMessage(m.get("role").asText(), content(m.get("content"), i)));
        }
        return out;
    }

    /** A message's content: a string, or OpenAI's array of parts of which the text parts count. */
    private static String content(JsonNode c, int i) {
        if (c != null && c.isTextual()) return c.asText();
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (part.isTextual()) sb.append(part.asText());
                else if (part.path("type").asText().equals("text") && part.path("text").isTextual()) sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw new IllegalArgumentException("messages[" + i + "] needs a 'content' string");
    }

    private static String string(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (!v.isTextual()) throw new IllegalArgumentException("'" + key + "' must be a string, found " + v.getNodeType().toString().toLowerCase());
        return v.asText();
    }

    private static String scalar(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (!v.isValueNode() || v.isNull()) throw new IllegalArgumentException("'" + key + "' must be a string or number");
        return v.asText();
    }
}
