package dev.gearbox.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the external clients' commands for the client tests. */
final class Processes {
    private Processes() {}

    /** A finished command: exit status and its stdout and stderr together. */
    record Result(int exit, String output) {
        String tail(int chars) { return output.length() <= chars ? output : output.substring(output.length() - chars); }
        /** The last line (where the client scripts print their JSON summary). */
        String lastLine() { return output.strip().lines().reduce((a, b) -> b).orElse(""); }
    }

    static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs {@code cmd} in {@code dir}; a run past the timeout is killed and throws. */
    static Result run(Path dir, long timeoutSeconds, List<String> cmd) throws IOException, InterruptedException {
        Path log = Files.createTempFile("gearbox-client", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(log.toFile()).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
            if (dir != null) pb.directory(dir.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " ran over " + timeoutSeconds + " s:\n" + Files.readString(log));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
