package dev.gearbox.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code gearbox template}: the rendered prompt on stdout with nothing added; errors as one line and exit codes. */
class TemplateCommandTest {
    static final Path QWEN3 = Path.of("target/test-assets/qwen3-vocab.gguf");

    @Test
    void printsExactlyThePromptOfTheModelsTemplate(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(QWEN3), QWEN3 + " is absent: run scripts/fetch-test-assets.sh");
        Path msgs = dir.resolve("m.json");
        Files.writeString(msgs, "[{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"Grüße 🚀\"}]");
        CliRun r = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--kwargs", "{\"enable_thinking\": false}");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nGrüße 🚀<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\n\n</think>\n\n");

        CliRun noGen = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--no-generation-prompt");
        assertThat(noGen.out()).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nGrüße 🚀<|im_end|>\n");

        Path tools = dir.resolve("t.json");
        Files.writeString(tools, "[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}]");
        CliRun withTools = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--tools", tools.toString());
        assertThat(withTools.out()).contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}\n</tools>");

        Path file = dir.resolve("t.jinja");
        Files.writeString(file, "{% for m in messages %}[{{ m.role }}|{{ m.content }}]{% endfor %}{{ eos_token }}\n");
        CliRun custom = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--chat-template-file", file.toString());
        assertThat(custom.out()).as("jinja2 drops one trailing newline of the template").isEqualTo("[system|S][user|Grüße 🚀]<|im_end|>");

        CliRun builtIn = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--chat-template", "llama3");
        assertThat(builtIn.out()).startsWith("<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>");
    }

    @Test
    void errorsAreOneLineWithExitCodes(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(QWEN3), QWEN3 + " is absent: run scripts/fetch-test-assets.sh");
        Path msgs = dir.resolve("m.json");
        Files.writeString(msgs, "{\"role\": \"user\"}");
        CliRun notArray = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString());
        assertThat(notArray.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(notArray.err()).contains("must hold a JSON array");

        Files.writeString(msgs, "[{\"role\": \"user\", \"content\": \"x\"}]");
        Path bad = dir.resolve("bad.jinja");
        Files.writeString(bad, "{{ raise_exception('no users here') }}");
        CliRun raised = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--chat-template-file", bad.toString());
        assertThat(raised.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(raised.err()).contains("no users here").contains("line 1");
        assertThat(raised.out()).isEmpty();

        CliRun badKwargs = CliRun.run("template", "-m", QWEN3.toString(), "--messages", msgs.toString(), "--kwargs", "{oops");
        assertThat(badKwargs.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badKwargs.err()).contains("--kwargs is not valid JSON");
    }

    @Test
    void synthTakesTheVocabularyAndTemplateFromAnotherGguf(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(QWEN3), QWEN3 + " is absent: run scripts/fetch-test-assets.sh");
        Path out = dir.resolve("x.gguf");
        CliRun synth = CliRun.run("synth", "--preset", "tiny-qwen3", "--dim", "64", "--heads", "2", "--kv-heads", "1", "--head-dim", "32",
                "--ff", "128", "--layers", "1", "--type", "Q8_0", "--vocab-from", QWEN3.toString(), "-o", out.toString());
        assertThat(synth.exitCode()).as(synth.err()).isZero();
        Path msgs = dir.resolve("m.json");
        Files.writeString(msgs, "[{\"role\": \"user\", \"content\": \"hi\"}]");
        CliRun r = CliRun.run("template", "-m", out.toString(), "--messages", msgs.toString());
        assertThat(r.out()).isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
        CliRun tok = CliRun.run("tokenize", "-m", out.toString(), r.out());
        assertThat(tok.out().strip()).isEqualTo("[151644,872,198,6023,151645,198,151644,77091,198]");

        CliRun missing = CliRun.run("synth", "--preset", "tiny", "--vocab-from", dir.resolve("nope.gguf").toString(), "-o", out.toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("cannot read --vocab-from");
    }
}
