package dev.gearbox.cli;

/** {@link CliRun} for tests outside this package. */
public final class CliRunner {
    private CliRunner() {}

    public record Result(int exitCode, String out, String err) {}

    public static Result run(String... args) {
        CliRun r = CliRun.run(args);
        return new Result(r.exitCode(), r.out(), r.err());
    }
}
