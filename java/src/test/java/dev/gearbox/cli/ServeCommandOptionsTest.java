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
}
