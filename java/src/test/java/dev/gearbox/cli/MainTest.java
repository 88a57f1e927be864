package dev.gearbox.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Argument parsing and exit codes, none of which needs a real model. */
class MainTest {
    @TempDir
    Path dir;

    static void assertOneLineError(CliRun r, String... fragments) {
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
        // Log lines (e.g. "loaded ...") may come first; the error is one last line, without a stack trace.
        java.util.List<String> lines = r.err().strip().lines().toList();
        String last = lines.get(lines.size() - 1);
        assertThat(last).startsWith("gearbox: error: ");
        assertThat(lines).filteredOn(l -> l.contains("error")).hasSize(1);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
        for (String f : fragments) assertThat(last).contains(f);
    }

    @Test
    void noCommandIsAUsageError() {
        CliRun r = CliRun.run();
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("Missing a command").contains("Usage: gearbox");
    }

    @Test
    void versionAndHelpExitZero() {
        CliRun v = CliRun.run("--version");
        assertThat(v.exitCode()).isZero();
        assertThat(v.out()).startsWith("gearbox ").contains("Java 25");
        CliRun h = CliRun.run("--help");
        assertThat(h.exitCode()).isZero();
        assertThat(h.out()).contains("generate").contains("tokenize").contains("bench").contains("inspect").contains("synth");
        CliRun g = CliRun.run("generate", "--help");
        assertThat(g.exitCode()).isZero();
        String help = g.out().replaceAll("\\s+", " ");
        assertThat(help).contains("--temp=T").contains("(default: 0.8)").contains("--top-k=K").contains("(default: 40)")
                .contains("--stop").contains("--json").contains("--ctx");
    }

    @Test
    void missingOptionsAndBadNumbersAreUsageErrors() {
        CliRun noModel = CliRun.run("generate", "-p", "hi");
        assertThat(noModel.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(noModel.err()).contains("--model");
        CliRun badNumber = CliRun.run("generate", "-m", "x.gguf", "-p", "hi", "-n", "lots");
        assertThat(badNumber.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badNumber.err()).contains("lots");
        CliRun unknown = CliRun.run("generate", "-m", "x.gguf", "-p", "hi", "--tempp", "1");
        assertThat(unknown.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.run("frobnicate").exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.run("tokenize", "-m", "x.gguf").exitCode()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void missingModelFileIsOneClearLine() {
        Path missing = dir.resolve("nope.gguf");
        assertOneLineError(CliRun.run("generate", "-m", missing.toString(), "-p", "hi"), "nope.gguf", "no such file");
        assertOneLineError(CliRun.run("tokenize", "-m", missing.toString(), "hi"), "no such file");
        assertOneLineError(CliRun.run("bench", "-m", missing.toString()), "no such file");
        assertOneLineError(CliRun.run("generate", "-m", dir.toString(), "-p", "hi"), "not a regular file");
    }

    @Test
    void corruptModelFileIsOneClearLine() throws IOException {
        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "this is not a GGUF file at all, just some text");
        CliRun r = CliRun.run("generate", "-m", junk.toString(), "-p", "hi");
        assertOneLineError(r, "junk.gguf");
        Path empty = Files.createFile(dir.resolve("empty.gguf"));
        assertOneLineError(CliRun.run("bench", "-m", empty.toString()), "empty.gguf");
    }

    @Test
    void invalidSamplingValuesAreNamed() {
        Path missing = dir.resolve("m.gguf"); // parameters are checked before the model is opened
        assertOneLineError(CliRun.run("generate", "-m", missing.toString(), "-p", "hi", "--temp", "-1"), "temperature");
        assertOneLineError(CliRun.run("generate", "-m", missing.toString(), "-p", "hi", "--top-p", "2"), "top-p");
        assertOneLineError(CliRun.run("bench", "-m", missing.toString(), "-r", "0"), "-r");
        assertOneLineError(CliRun.run("bench", "-m", missing.toString(), "-p", "0", "-n", "0"), "nothing to measure");
    }

    @Test
    void describeFallsBackToTheCauseOrTheClassName() {
        assertThat(Main.describe(new RuntimeException(null, new IllegalStateException("inner")))).isEqualTo("inner");
        assertThat(Main.describe(new NullPointerException())).isEqualTo("NullPointerException");
        assertThat(Main.describe(new OutOfMemoryError("Java heap space"))).contains("out of memory").contains("--ctx");
    }
}
