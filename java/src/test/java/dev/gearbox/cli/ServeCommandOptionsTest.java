package dev.gearbox.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** gearbox serve's access options, parsed (the server's behaviour with them: ServerSecurityTest). */
class ServeCommandOptionsTest {
    @Test
    void keysComeFromTheCommandLineAndAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "# team keys\nsk-file-one\n\n  sk-file-two  \n# sk-commented-out\n");
        ServeCommand c = new ServeCommand();
        new CommandLine(c).parseArgs("--api-key", "sk-a", "--api-key", "sk-b", "--api-keys", file.toString(),
                "--protect-health-metrics", "--cors-origin", "http://app.example", "--cors-origin", "*");
        assertThat(ServeCommand.keys(c.apiKeys, c.apiKeyFile)).containsExactly("sk-a", "sk-b", "sk-file-one", "sk-file-two");
        assertThat(c.protectHealthMetrics).isTrue();
        assertThat(c.corsOrigins).containsExactly("http://app.example", "*");
        assertThat(c.host).isEqualTo("127.0.0.1");   // loopback unless asked

        Path empty = dir.resolve("empty");
        Files.writeString(empty, "# nothing yet\n\n");
        assertThatThrownBy(() -> ServeCommand.keys(List.of(), empty)).hasMessageContaining("holds no keys");
        assertThat(ServeCommand.keys(List.of(), null)).isEmpty();
    }

    @Test
    void badAccessSettingsStopServeBeforeItListens(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("keys");
        Files.writeString(empty, "\n");
        CliRun noKeys = CliRun.run("serve", "--port", "0", "--api-keys", empty.toString());
        assertThat(noKeys.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(noKeys.err()).contains("holds no keys");
        CliRun origin = CliRun.run("serve", "--port", "0", "--cors-origin", "http://app.example/page");
        assertThat(origin.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(origin.err()).contains("CORS origin");
        CliRun protect = CliRun.run("serve", "--port", "0", "--protect-health-metrics");
        assertThat(protect.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(protect.err()).contains("API key");
        assertThat(noKeys.out() + origin.out() + protect.out()).doesNotContain("listening");
    }
}
