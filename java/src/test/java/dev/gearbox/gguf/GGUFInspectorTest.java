package dev.gearbox.gguf;

import dev.gearbox.SharedData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GGUFInspectorTest {
    @TempDir Path dir;

    // stories260K: 48 F32 tensors; parameters = 512*64 (embd) + 64 + 512*64 (output) + 5 layers of
    // (64*64 + 2*64*32 + 64*64 + 64 + 3*64*172 + 64).
    static final long STORIES_PARAMS = 2L * 512 * 64 + 64 + 5L * (64 * 64 + 2 * 64 * 32 + 64 * 64 + 64 + 3 * 64 * 172 + 64);

    @Test
    void textReportOfStories260K() throws IOException {
        try (GGUFFile f = GGUFFile.open(SharedData.stories260K())) {
            StringWriter sw = new StringWriter();
            new GGUFInspector(f).printText(new PrintWriter(sw));
            String s = sw.toString();
            assertThat(s).contains("version:     GGUF v3", "alignment:   32", "metadata (19 keys):", "tensors (48):");
            assertThat(s).containsPattern("llama\\.block_count\\s+UINT32 5");
            assertThat(s).containsPattern("general\\.architecture\\s+STRING \"llama\"");
            assertThat(s).containsPattern("tokenizer\\.ggml\\.tokens\\s+ARRAY<STRING>\\[512] \\[\"<unk>\", \"<s>\", \"</s>\", \"<0x00>\", \"<0x01>\", \\.\\.\\.]");
            assertThat(s).containsPattern("tokenizer\\.ggml\\.seperator_token_id\\s+UINT32 4294967295");
            assertThat(s).containsPattern("llama\\.attention\\.layer_norm_rms_epsilon\\s+FLOAT32 1\\.0E-5\n");
            assertThat(s).containsPattern("blk\\.0\\.ffn_down\\.weight\\s+F32\\s+\\[172, 64]\\s+44,032\\s+355,840");
            assertThat(s).contains(String.format("%,d parameters", STORIES_PARAMS), String.format("%,d bytes", STORIES_PARAMS * 4),
                    "4.0000 bytes/weight (32.00 bits/weight)");
        }
    }

    @Test
    void jsonReportOfStories260K() throws IOException {
        try (GGUFFile f = GGUFFile.open(SharedData.stories260K())) {
            StringWriter sw = new StringWriter();
            new GGUFInspector(f, 3).printJson(sw);
            JsonNode j = new ObjectMapper().readTree(sw.toString());
            assertThat(j.get("version").asInt()).isEqualTo(3);
            assertThat(j.get("alignment").asInt()).isEqualTo(32);
            assertThat(j.get("file_size").asLong()).isEqualTo(1_185_376);
            JsonNode tokens = j.get("metadata").get("tokenizer.ggml.tokens");
            assertThat(tokens.get("element_type").asText()).isEqualTo("STRING");
            assertThat(tokens.get("length").asInt()).isEqualTo(512);
            assertThat(tokens.get("first")).hasSize(3);
            assertThat(tokens.get("first").get(2).asText()).isEqualTo("</s>");
            assertThat(j.get("metadata").get("llama.embedding_length").get("value").asInt()).isEqualTo(64);
            assertThat(j.get("metadata").get("llama.attention.layer_norm_rms_epsilon").get("value").asDouble()).isCloseTo(1e-5, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(j.get("tensors")).hasSize(48);
            JsonNode t = j.get("tensors").get(2);
            assertThat(t.get("name").asText()).isEqualTo("output.weight");
            assertThat(t.get("shape").get(1).asInt()).isEqualTo(512);
            assertThat(t.get("bytes").asLong()).isEqualTo(512 * 64 * 4);
            assertThat(t.get("offset").asLong()).isEqualTo(131328);
            assertThat(t.get("file_offset").asLong()).isEqualTo(f.dataOffset() + 131328);
            assertThat(j.get("totals").get("parameters").asLong()).isEqualTo(STORIES_PARAMS);
            assertThat(j.get("totals").get("bytes_per_weight").asDouble()).isEqualTo(4.0);
        }
    }

    @Test
    void unusualValuesAreShownFaithfully() throws IOException {
        Path p = dir.resolve("odd.gguf");
        new GGUFWriter()
                .put("u64", GGUFValue.u64(-1L))
                .put("ctl", GGUFValue.string("a\nb\u0001\"q\""))
                .put("long", GGUFValue.string("x".repeat(500)))
                .put("nested", GGUFValue.arrays(GGUFValue.ints(GGUFValueType.INT8, -1, 2), GGUFValue.strings("z")))
                .put("empty", GGUFValue.bools())
                .write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            StringWriter sw = new StringWriter();
            new GGUFInspector(f).printText(new PrintWriter(sw));
            assertThat(sw.toString()).contains("UINT64 18446744073709551615", "STRING \"a\\nb\\u0001\\\"q\\\"\"", "...(500 chars)",
                    "ARRAY<ARRAY>[2] [ARRAY<INT8>[2] [-1, 2], ARRAY<STRING>[1] [\"z\"]]", "ARRAY<BOOL>[0]", "totals: 0 tensors, 0 parameters");
            StringWriter js = new StringWriter();
            new GGUFInspector(f).printJson(js);
            JsonNode j = new ObjectMapper().readTree(js.toString());
            assertThat(j.get("metadata").get("u64").get("value").bigIntegerValue()).isEqualTo(new java.math.BigInteger("18446744073709551615"));
            assertThat(j.get("metadata").get("ctl").get("value").asText()).isEqualTo("a\nb\u0001\"q\"");
            assertThat(j.get("metadata").get("nested").get("first").get(0).get("first").get(0).asInt()).isEqualTo(-1);
        }
    }
}
