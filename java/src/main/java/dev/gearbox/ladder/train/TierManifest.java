package dev.gearbox.ladder.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code scripts/train-ladder.py} saves for one trained tier: hyper-parameters, the character
 * vocabulary, and where each tensor's float32 values lie in the companion {@code .bin} file, with
 * shapes already in GGML order (innermost first). Also PyTorch's logits for a few probe prompts,
 * which tests use to check that Gearbox reproduces the trained forward pass.
 *
 * <p>Reading validates everything the exporter relies on, so a bad manifest fails here with a message
 * naming the field, not later as a broken GGUF.
 */
public record TierManifest(
        Path path,
        String name,
        int contextLength,
        int embeddingLength,
        int blockCount,
        int headCount,
        int headCountKv,
        int feedForwardLength,
        double ropeFreqBase,
        double rmsEps,
        boolean tiedOutput,
        List<String> tokens,
        Path dataFile,
        Map<String, Tensor> tensors,
        List<Probe> probes,
        JsonNode training) {

    public static final String FORMAT = "gearbox-tier-v1";

    /** One tensor: GGML shape and its byte offset in the data file. */
    public record Tensor(String name, long[] shape, long offset, long elements) {}

    /** A probe prompt's token ids and PyTorch's logits at every position ([position][vocab]). */
    public record Probe(String text, int[] tokens, float[][] logits) {}

    public int headDim() { return embeddingLength / headCount; }

    public static TierManifest read(Path path) throws IOException {
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(path.toFile());
        } catch (IOException e) {
            throw new IOException(path + ": not a readable JSON manifest: " + e.getMessage(), e);
        }
        if (j == null || !j.isObject()) throw bad(path, "not a JSON object");
        String format = text(path, j, "format");
        if (!FORMAT.equals(format)) throw bad(path, "format is '" + format + "', expected '" + FORMAT + "'");
        String arch = text(path, j, "architecture");
        if (!"llama".equals(arch)) throw bad(path, "architecture '" + arch + "' is not supported (only llama)");
        int ctx = positive(path, j, "context_length");
        int d = positive(path, j, "embedding_length");
        int layers = positive(path, j, "block_count");
        int heads = positive(path, j, "head_count");
        int kvHeads = positive(path, j, "head_count_kv");
        int ff = positive(path, j, "feed_forward_length");
        if (d % heads != 0) throw bad(path, "embedding_length " + d + " is not a multiple of head_count " + heads);
        if (heads % kvHeads != 0) throw bad(path, "head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        if ((d / heads) % 2 != 0) throw bad(path, "head size " + d / heads + " must be even for rope");
        double base = number(path, j, "rope_freq_base");
        double eps = number(path, j, "rms_eps");
        if (!(base > 0) || !(eps > 0)) throw bad(path, "rope_freq_base and rms_eps must be positive");
        JsonNode tied = j.get("tied_output");
        if (tied == null || !tied.isBoolean()) throw bad(path, "missing boolean 'tied_output'");

        JsonNode tok = j.get("tokens");
        if (tok == null || !tok.isArray()) throw bad(path, "missing array 'tokens'");
        List<String> tokens = new ArrayList<>();
        for (JsonNode t : tok) {
            if (!t.isTextual()) throw bad(path, "tokens[" + tokens.size() + "] is not a string");
            tokens.add(t.asText());
        }
        CharVocab.validate(tokens, path);

        Path data = path.resolveSibling(text(path, j, "data_file"));
        if (!Files.isRegularFile(data)) throw bad(path, "data file " + data + " is missing");
        long dataBytes = Files.size(data);

        Map<String, long[]> expected = expectedShapes(d, layers, heads, kvHeads, ff, tokens.size(), tied.asBoolean());
        JsonNode ts = j.get("tensors");
        if (ts == null || !ts.isArray()) throw bad(path, "missing array 'tensors'");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (JsonNode t : ts) {
            String name = text(path, t, "name");
            long[] want = expected.get(name);
            if (want == null) throw bad(path, "unexpected tensor '" + name + "'");
            JsonNode sh = t.get("shape");
            if (sh == null || !sh.isArray()) throw bad(path, name + ": missing shape");
            long[] shape = new long[sh.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = sh.get(i).asLong();
            if (!Arrays.equals(shape, want)) {
                throw bad(path, name + ": shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(want) + " (GGML order, innermost first)");
            }
            long elements = Arrays.stream(shape).reduce(1, Math::multiplyExact);
            if (t.path("elements").asLong(-1) != elements) throw bad(path, name + ": 'elements' does not match its shape");
            long offset = t.path("offset").asLong(-1);
            if (offset < 0 || offset % 4 != 0 || offset + 4 * elements > dataBytes) {
                throw bad(path, name + ": offset " + offset + " + " + 4 * elements + " bytes lies outside " + data.getFileName() + " (" + dataBytes + " bytes)");
            }
            if (tensors.put(name, new Tensor(name, shape, offset, elements)) != null) throw bad(path, "tensor '" + name + "' listed twice");
        }
        for (String name : expected.keySet()) {
            if (!tensors.containsKey(name)) throw bad(path, "tensor '" + name + "' is missing");
        }

        List<Probe> probes = new ArrayList<>();
        for (JsonNode p : j.path("probes")) {
            int[] ids = new int[p.path("tokens").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = p.path("tokens").get(i).asInt();
            JsonNode lg = p.path("logits");
            if (lg.size() != ids.length) throw bad(path, "probe '" + p.path("text").asText() + "': " + lg.size() + " logit rows for " + ids.length + " tokens");
            float[][] logits = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) {
                JsonNode row = lg.get(i);
                if (row.size() != tokens.size()) throw bad(path, "probe logits row " + i + " has " + row.size() + " values, vocabulary has " + tokens.size());
                logits[i] = new float[row.size()];
                for (int v = 0; v < row.size(); v++) logits[i][v] = (float) row.get(v).asDouble();
            }
            probes.add(new Probe(p.path("text").asText(), ids, logits));
        }
        return new TierManifest(path, text(path, j, "name"), ctx, d, layers, heads, kvHeads, ff, base, eps, tied.asBoolean(),
                List.copyOf(tokens), data, tensors, List.copyOf(probes), j.path("training"));
    }

    /** llama.cpp's tensor names and GGML shapes for this architecture. */
    static Map<String, long[]> expectedShapes(int d, int layers, int heads, int kvHeads, int ff, int vocab, boolean tied) {
        long kv = (long) d / heads * kvHeads;
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("token_embd.weight", new long[] {d, vocab});
        for (int i = 0; i < layers; i++) {
            String p = "blk." + i + ".";
            m.put(p + "attn_norm.weight", new long[] {d});
            m.put(p + "attn_q.weight", new long[] {d, d});
            m.put(p + "attn_k.weight", new long[] {d, kv});
            m.put(p + "attn_v.weight", new long[] {d, kv});
            m.put(p + "attn_output.weight", new long[] {d, d});
            m.put(p + "ffn_norm.weight", new long[] {d});
            m.put(p + "ffn_gate.weight", new long[] {d, ff});
            m.put(p + "ffn_up.weight", new long[] {d, ff});
            m.put(p + "ffn_down.weight", new long[] {ff, d});
        }
        m.put("output_norm.weight", new long[] {d});
        if (!tied) m.put("output.weight", new long[] {d, vocab});
        return m;
    }

    private static IOException bad(Path path, String msg) {
        return new IOException(path + ": " + msg);
    }

    private static String text(Path path, JsonNode j, String key) throws IOException {
        JsonNode v = j.get(key);
        if (v == null || !v.isTextual()) throw bad(path, "missing string '" + key + "'");
        return v.asText();
    }

    private static double number(Path path, JsonNode j, String key) throws IOException {
        JsonNode v = j.get(key);
        if (v == null || !v.isNumber()) throw bad(path, "missing number '" + key + "'");
        return v.asDouble();
    }

    private static int positive(Path path, JsonNode j, String key) throws IOException {
        JsonNode v = j.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
            throw bad(path, "'" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }
}
