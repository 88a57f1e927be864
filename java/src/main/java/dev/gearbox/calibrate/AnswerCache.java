package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Tier answers remembered across runs, so re-running calibrate or demo on the same models and
 * prompts skips generation. An answer is keyed by the tier file's SHA-256 (a retrained tier is a
 * new file, so stale answers can never be served), the answer-token limit and the exact prompt.
 * The file is JSONL, appended to as answers come; lines that do not parse (an interrupted write)
 * are ignored.
 */
public final class AnswerCache implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a tier did with one prompt: its answer, what it cost, and how many tiers took a turn (1 without escalation). */
    public record Entry(String answer, double flops, int promptTokens, int answerTokens, int hops) {
        public Entry(String answer, double flops, int promptTokens, int answerTokens) {
            this(answer, flops, promptTokens, answerTokens, 1);
        }
    }

    private final Path file;
    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<Path, String> fileHashes = new HashMap<>();
    private BufferedWriter out;
    private int hits, misses;

    private AnswerCache(Path file) {
        this.file = file;
    }

    /** A cache that remembers nothing (for --no-cache). */
    public static AnswerCache disabled() {
        return new AnswerCache(null);
    }

    /** The cache kept in {@code file}, loading what it already holds. */
    public static AnswerCache open(Path file) throws IOException {
        AnswerCache c = new AnswerCache(file);
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                try {
                    JsonNode o = JSON.readTree(line);
                    if (o == null || !o.path("key").isTextual()) continue;
                    c.entries.put(o.get("key").asText(), new Entry(o.path("answer").asText(), o.path("flops").asDouble(),
                            o.path("prompt_tokens").asInt(), o.path("answer_tokens").asInt(), o.path("hops").asInt(1)));
                } catch (IOException e) {
                    // a torn line from an interrupted run: that answer is simply recomputed
                }
            }
        }
        return c;
    }

    /** {@code $XDG_CACHE_HOME/gearbox/answers.jsonl}, else {@code ~/.cache/gearbox/answers.jsonl}. */
    public static Path defaultFile() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("gearbox").resolve("answers.jsonl");
    }

    public Entry get(Path tierFile, int maxTokens, String prompt) throws IOException {
        return get(List.of(tierFile), "", maxTokens, prompt);
    }

    public void put(Path tierFile, int maxTokens, String prompt, Entry e) throws IOException {
        put(List.of(tierFile), "", maxTokens, prompt, e);
    }

    /**
     * An answer that depends on several model files (a tier and the tiers it may escalate to) and
     * on settings ({@code variant}: e.g. the escalation thresholds): all are part of the key.
     */
    public Entry get(List<Path> files, String variant, int maxTokens, String prompt) throws IOException {
        if (file == null) {
            misses++;
            return null;
        }
        Entry e = entries.get(key(files, variant, maxTokens, prompt));
        if (e == null) misses++;
        else hits++;
        return e;
    }

    public void put(List<Path> files, String variant, int maxTokens, String prompt, Entry e) throws IOException {
        if (file == null) return;
        String key = key(files, variant, maxTokens, prompt);
        entries.put(key, e);
        if (out == null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("key", key).put("answer", e.answer()).put("flops", e.flops())
                .put("prompt_tokens", e.promptTokens()).put("answer_tokens", e.answerTokens()).put("hops", e.hops());
        out.write(JSON.writeValueAsString(o));
        out.newLine();
        out.flush();
    }

    public int hits() { return hits; }

    public int misses() { return misses; }

    public Path file() { return file; }

    private String key(List<Path> files, String variant, int maxTokens, String prompt) throws IOException {
        List<String> parts = new java.util.ArrayList<>();
        for (Path f : files) parts.add(fileHash(f));
        if (!variant.isEmpty()) parts.add(variant); // single-tier keys stay as they were: (hash, limit, prompt)
        parts.add(Integer.toString(maxTokens));
        parts.add(prompt);
        return sha256(parts);
    }

    private String fileHash(Path tierFile) throws IOException {
        Path p = tierFile.toAbsolutePath().normalize();
        String h = fileHashes.get(p);
        if (h == null) {
            MessageDigest md = digest();
            try (InputStream in = Files.newInputStream(p)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            }
            h = HexFormat.of().formatHex(md.digest());
            fileHashes.put(p, h);
        }
        return h;
    }

    private static String sha256(List<String> parts) {
        MessageDigest md = digest();
        for (String s : parts) {
            md.update(s.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
