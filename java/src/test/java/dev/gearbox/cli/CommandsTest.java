package dev.gearbox.cli;

import dev.gearbox.Require;

import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CommandsTest {
    @TempDir Path dir;
    final StringWriter out = new StringWriter(), err = new StringWriter();

    int run(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void inspectPrintsTextAndJson() {
        Path stories = Path.of("../shared/models/stories260K.gguf");
        Require.capability("shared", Files.isRegularFile(stories), "shared test data not present");
        assertThat(run(new InspectCommand(), stories.toString())).isZero();
        assertThat(out.toString()).contains("GGUF v3", "tensors (48):", "token_embd.weight");
        assertThat(err.toString()).isEmpty();
        out.getBuffer().setLength(0);
        assertThat(run(new InspectCommand(), "--json", "--elements", "1", stories.toString())).isZero();
        assertThat(out.toString()).startsWith("{").contains("\"version\" : 3", "\"first\" : [ \"<unk>\" ]");
    }

    @Test
    void inspectReportsFormatErrorsOnStderrWithExitCode1() throws IOException {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 9, 0, 0, 0});
        assertThat(run(new InspectCommand(), bad.toString())).isEqualTo(1);
        assertThat(err.toString().trim()).isEqualTo(bad + ": unsupported GGUF version 9 (supported: 2, 3) (at byte offset 4)");
        assertThat(out.toString()).isEmpty();
        err.getBuffer().setLength(0);
        assertThat(run(new InspectCommand(), dir.resolve("missing.gguf").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("missing.gguf", "no such file");
    }

    @Test
    void synthWritesTheRequestedModel() throws IOException {
        Path p = dir.resolve("m.gguf");
        int rc = run(new SynthCommand(), "--arch", "qwen2", "--dim", "64", "--layers", "3", "--heads", "4", "--kv-heads", "2",
                "--ff", "128", "--vocab", "400", "--type", "F16", "--seed", "5", "-o", p.toString());
        assertThat(rc).as(err.toString()).isZero();
        assertThat(out.toString()).contains("wrote", "qwen2");
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.requireString("general.architecture")).isEqualTo("qwen2");
            assertThat(f.requireLong("qwen2.block_count")).isEqualTo(3);
            assertThat(f.requireLong("qwen2.attention.head_count_kv")).isEqualTo(2);
            assertThat(f.tensor("blk.2.attn_k.bias").shape()).containsExactly(32);
            assertThat(f.tensor("blk.2.ffn_down.weight").shape()).containsExactly(128, 64);
            assertThat(f.tensor("blk.2.ffn_down.weight").type().name()).isEqualTo("F16");
            assertThat(f.getStrings("tokenizer.ggml.tokens")).hasSize(400);
        }
        assertThat(Files.exists(dir.resolve("m.gguf.tmp"))).isFalse();
    }

    @Test
    void synthPresetWithOverrides() throws IOException {
        Path p = dir.resolve("t.gguf");
        assertThat(run(new SynthCommand(), "--preset", "tiny-qwen3", "--layers", "1", "--no-tied", "-o", p.toString())).as(err.toString()).isZero();
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.requireLong("qwen3.block_count")).isEqualTo(1);
            assertThat(f.requireLong("qwen3.attention.key_length")).isEqualTo(128);
            assertThat(f.tensor("output.weight")).isNotNull();
            assertThat(f.tensor("blk.0.attn_q_norm.weight").shape()).containsExactly(128);
        }
    }

    @Test
    void synthRejectsBadArgumentsWithAMessage() {
        Path p = dir.resolve("x.gguf");
        assertThat(run(new SynthCommand(), "--preset", "tiny", "--heads", "3", "-o", p.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("synth:", "n_head 3");
        err.getBuffer().setLength(0);
        assertThat(run(new SynthCommand(), "--preset", "tiny", "--type", "Q9_9", "-o", p.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("unknown tensor type 'Q9_9'");
        assertThat(Files.exists(p)).isFalse();
    }
}
