package dev.gearbox.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a Hugging Face byte-level BPE {@code tokenizer.json} (and optionally its
 * {@code tokenizer_config.json}) into a vocab-only GGUF with the {@code tokenizer.ggml.*} keys
 * llama.cpp's converter writes. Added tokens keep their ids; special ones (or ones that look like
 * {@code <|...|>}) become CONTROL, the others USER_DEFINED, as convert_hf_to_gguf.py does.
 *
 * <pre>java -cp target/classes:JACKSON dev.gearbox.tokenizer.HfVocabConverter
 *     --tokenizer tokenizer.json [--config tokenizer_config.json] --pre llama-bpe [--bos TEXT] [--name NAME] --out vocab.gguf</pre>
 */
public final class HfVocabConverter {
    private HfVocabConverter() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) usage("bad argument '" + args[i] + "'");
            opts.put(args[i].substring(2), args[++i]);
        }
        if (!opts.containsKey("tokenizer") || !opts.containsKey("pre") || !opts.containsKey("out")) usage("--tokenizer, --pre and --out are required");
        GGUFWriter w = convert(Path.of(opts.get("tokenizer")), opts.containsKey("config") ? Path.of(opts.get("config")) : null,
                opts.get("pre"), opts.get("bos"), opts.getOrDefault("name", null));
        w.write(Path.of(opts.get("out")));
        System.out.println("wrote " + opts.get("out"));
    }

    private static void usage(String why) {
        System.err.println(why + "\nusage: HfVocabConverter --tokenizer tokenizer.json [--config tokenizer_config.json] --pre PRE"
                + " [--bos TOKEN_TEXT] [--name NAME] --out OUT.gguf");
        System.exit(2);
    }

    /** The GGUF metadata for a tokenizer.json; {@code bosOverride} names the BOS token when the config has none. */
    public static GGUFWriter convert(Path tokenizerJson, Path configJson, String pre, String bosOverride, String name) throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode tok = json.readTree(Files.readString(tokenizerJson));
        JsonNode cfg = configJson != null ? json.readTree(Files.readString(configJson)) : json.createObjectNode();
        JsonNode model = tok.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new IOException(tokenizerJson + ": model type '" + model.path("type").asText() + "' is not BPE");
        }

        TreeMap<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            var e = it.next();
            byId.put(e.getValue().asInt(), e.getKey());
        }
        TreeMap<Integer, JsonNode> added = new TreeMap<>();
        for (JsonNode a : tok.path("added_tokens")) added.put(a.path("id").asInt(), a);
        int n = Math.max(byId.isEmpty() ? 0 : byId.lastKey() + 1, added.isEmpty() ? 0 : added.lastKey() + 1);
        if (n == 0) throw new IOException(tokenizerJson + ": empty vocabulary");

        String[] tokens = new String[n];
        long[] types = new long[n];
        for (int i = 0; i < n; i++) {
            JsonNode a = added.get(i);
            String t = a != null ? a.path("content").asText() : byId.get(i);
            if (t == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = TokenType.UNUSED.code();
            } else if (a != null) {
                boolean special = a.path("special").asBoolean(false) || looksSpecial(t);
                tokens[i] = special ? t : t.replace('\u2581', ' ');
                types[i] = (special ? TokenType.CONTROL : TokenType.USER_DEFINED).code();
            } else {
                tokens[i] = t;
                types[i] = TokenType.NORMAL.code();
            }
        }

        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) merges.add(m.get(0).asText() + " " + m.get(1).asText());
            else merges.add(m.asText());
        }

        GGUFWriter w = new GGUFWriter();
        w.putString("general.architecture", "llama");
        if (name != null) w.putString("general.name", name);
        w.putString(Tokenizers.MODEL, "gpt2");
        w.putString(Tokenizers.PRE, pre);
        w.put(Tokenizers.TOKENS, GGUFValue.strings(tokens));
        w.put(Tokenizers.TOKEN_TYPE, GGUFValue.i32s(types));
        w.put(Tokenizers.MERGES, GGUFValue.strings(merges.toArray(String[]::new)));
        String bos = tokenText(cfg.path("bos_token"));
        if (bos == null) bos = bosOverride;
        putId(w, Tokenizers.BOS_ID, bos, tokens);
        putId(w, Tokenizers.EOS_ID, tokenText(cfg.path("eos_token")), tokens);
        putId(w, Tokenizers.PAD_ID, tokenText(cfg.path("pad_token")), tokens);
        if (cfg.has("add_bos_token")) w.putBool(Tokenizers.ADD_BOS, cfg.get("add_bos_token").asBoolean());
        if (cfg.has("add_eos_token")) w.putBool(Tokenizers.ADD_EOS, cfg.get("add_eos_token").asBoolean());
        putId(w, Tokenizers.UNK_ID, tokenText(cfg.path("unk_token")), tokens);
        putChatTemplates(w, cfg.path("chat_template"));
        return w;
    }

    /**
     * The chat template as convert_hf_to_gguf.py stores it: a string goes to {@code tokenizer.chat_template};
     * a list of {@code {"name", "template"}} (HF's named templates) puts "default" there and every other
     * one under {@code tokenizer.chat_template.NAME}, with their names in {@code tokenizer.chat_templates}.
     */
    static void putChatTemplates(GGUFWriter w, JsonNode t) throws IOException {
        if (t.isTextual()) {
            w.putString(Tokenizers.CHAT_TEMPLATE, t.asText());
            return;
        }
        if (!t.isArray()) return;
        List<String> names = new ArrayList<>();
        for (JsonNode e : t) {
            String name = e.path("name").asText(null), text = e.path("template").asText(null);
            if (name == null || text == null) throw new IOException("chat_template list entries need \"name\" and \"template\"");
            if (name.equals("default")) {
                w.putString(Tokenizers.CHAT_TEMPLATE, text);
            } else {
                w.putString(Tokenizers.CHAT_TEMPLATE + "." + name, text);
                names.add(name);
            }
        }
        if (!names.isEmpty()) w.put(Tokenizers.CHAT_TEMPLATE + "s", GGUFValue.strings(names.toArray(String[]::new)));
    }

    /** convert_hf_to_gguf.py's does_token_look_special. */
    static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || (t.startsWith("<|") && t.endsWith("|>")) || (t.startsWith("<｜") && t.endsWith("｜>"))
                || (t.startsWith("<unused") && t.endsWith(">"));
    }

    private static String tokenText(JsonNode n) {
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
        return null;
    }

    private static void putId(GGUFWriter w, String key, String text, String[] tokens) throws IOException {
        if (text == null) return;
        for (int i = tokens.length - 1; i >= 0; i--) {
            if (tokens[i].equals(text)) {
                w.putU32(key, i);
                return;
            }
        }
        throw new IOException("special token '" + text + "' for " + key + " is not in the vocabulary");
    }
}
