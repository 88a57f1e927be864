package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gearbox serve} as a real process: it says where it listens, answers, and drains on SIGTERM. */
class ServeCommandTest {
    @Test
    void serveAnswersAndShutsDownOnSigterm() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path err = Files.createTempFile("gearbox-serve", ".err");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.gearbox.cli.Main",
                "serve", "--port", "0", "-t", "1"));
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("first stdout line; stderr: " + Files.readString(err)).isNotNull();
            Matcher m = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)").matcher(line);
            assertThat(m.find()).as(line).isTrue();
            Http http = new Http(Integer.parseInt(m.group(1)));
            JsonNode r = Http.json(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"add:12+34=\",\"temperature\":0}"));
            assertThat(r.get("choices").get(0).get("text").asText()).isEqualTo("64");

            p.destroy();   // SIGTERM
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
            assertThat(Files.readString(err)).contains("draining");
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(err);
        }
    }
}
