package dev.gearbox.tokenizer;

import dev.gearbox.Require;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The real stories260K vocabulary (SentencePiece, 512 tokens) against llama.cpp's refdump outputs. */
class Stories260KTokenizerTest {
    static final Path MODEL = Path.of("../shared/models/stories260K.gguf");
    static final Path REF = Path.of("../shared/reference/stories260K");

    static GGUFFile file;
    static Tokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        Require.capability("shared", Files.exists(MODEL), MODEL + " is absent (../shared not available)");
        file = GGUFFile.open(MODEL);
        tok = Tokenizers.fromGGUF(file);
    }

    @AfterAll
    static void close() {
        if (file != null) file.close();
    }

    static List<JsonNode> references() throws Exception {
        Require.capability("shared", Files.isDirectory(REF), REF + " is absent");
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(REF)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                JsonNode n = json.readTree(p.toFile());
                if (n.isObject() && n.has("tokens")) out.add(n);
            }
        }
        assertThat(out).hasSizeGreaterThanOrEqualTo(4);
        return out;
    }

    static int[] ints(JsonNode arr) {
        int[] a = new int[arr.size()];
        for (int i = 0; i < a.length; i++) a[i] = arr.get(i).asInt();
        return a;
    }

    @Test
    void vocabularyMetadata() {
        assertThat(tok.vocabSize()).isEqualTo(512);
        assertThat(tok.bos()).isEqualTo(1);
        assertThat(tok.eos()).isEqualTo(2);
        assertThat(tok.isEndOfGeneration(2)).isTrue();
        assertThat(tok.isEndOfGeneration(1)).isFalse();
        assertThat(tok.isControl(1)).isTrue();
        assertThat(tok.addsBos()).isTrue();
    }

    @Test
    void promptTokensMatchLlamaCpp() throws Exception {
        for (JsonNode ref : references()) {
            byte[] prompt = HexFormat.of().parseHex(ref.get("prompt_hex").asText());
            int[] got = tok.encode(new String(prompt, StandardCharsets.UTF_8), true, true);
            assertThat(got).as("prompt of %s", ref.get("prompt").asText()).containsExactly(ints(ref.get("tokens")));
        }
    }

    @Test
    void tokenPiecesMatchLlamaCpp() throws Exception {
        for (JsonNode ref : references()) {
            for (JsonNode p : ref.get("token_pieces")) {
                int id = p.get("id").asInt();
                assertThat(HexFormat.of().formatHex(tok.tokenBytes(id))).as("piece of token %d", id).isEqualTo(p.get("piece_hex").asText());
            }
        }
    }

    @Test
    void generatedTokensDetokenizeToGeneratedText() throws Exception {
        int checked = 0;
        for (JsonNode ref : references()) {
            if (!ref.has("generated_tokens") || ref.get("generated_text").isNull()) continue;
            assertThat(tok.decode(ints(ref.get("generated_tokens")))).isEqualTo(ref.get("generated_text").asText());
            checked++;
        }
        assertThat(checked).isEqualTo(2);
    }

    @Test
    void emptyPromptIsJustBos() {
        assertThat(tok.encode("", true, true)).containsExactly(1);
        assertThat(tok.encode("", false, false)).isEmpty();
    }

    @Test
    void bosTextIsParsedOnlyWithParseSpecial() {
        int[] plain = tok.encode("Once", false, false);
        // "<s>" spelled in the text becomes BOS, and the text after a special token gets SentencePiece's leading space again.
        int[] withSpecial = tok.encode("<s>Once", false, true);
        assertThat(withSpecial[0]).isEqualTo(1);
        assertThat(java.util.Arrays.copyOfRange(withSpecial, 1, withSpecial.length)).containsExactly(plain);
        assertThat(tok.encode("<s>Once", false, false)).doesNotContain(1);
    }
}
