package dev.gearbox.cli;

import dev.gearbox.calibrate.AnswerCache;
import dev.gearbox.calibrate.Demo;
import dev.gearbox.calibrate.DemoResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gearbox demo}: the held-out workload through the default ladder, against always-largest and random routing. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {
                "Run a held-out mixed workload through the ladder with its router (gatekeeper -> decision -> tier, escalation",
                "and ensemble as configured) and print per tier the share of prompts and accuracy, routed accuracy,",
                "always-largest accuracy, random routing's accuracy at the same compute, compute as a share of always-largest",
                "(gatekeeper, prefill, decode, escalations, ensembles) and gatekeeper overhead, and whether the goal holds:",
                "routed >= 95%% of largest, compute <= 50%%, above random."})
public final class DemoCommand implements Callable<Integer> {
    static final Path DEFAULT_LADDER = Path.of("models", "ladder.yaml");

    @Option(names = "--ladder", paramLabel = "FILE", description = "the ladder YAML (default: models/ladder.yaml)")
    Path ladder;

    @Option(names = "--data", paramLabel = "FILE", description = "the workload, JSONL (default: data/heldout.jsonl beside the ladder)")
    Path data;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Option(names = "--cache", paramLabel = "FILE", description = "answer cache for the single-tier baselines (default: $XDG_CACHE_HOME/gearbox/answers.jsonl or ~/.cache/gearbox/answers.jsonl)")
    Path cache;

    @Option(names = "--no-cache", description = "neither read nor write the answer cache")
    boolean noCache;

    @Option(names = "--quiet", description = "no progress on stderr")
    boolean quiet;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path ladderFile = resolveLadder(ladder);
        Path dataFile = data != null ? data : ladderFile.toAbsolutePath().getParent().resolve("data").resolve("heldout.jsonl");
        try (AnswerCache answers = noCache ? AnswerCache.disabled() : AnswerCache.open(cache != null ? cache : AnswerCache.defaultFile())) {
            DemoResult r = Demo.run(new Demo.Options(ladderFile, dataFile, answers, quiet ? null : spec.commandLine().getErr()));
            var out = spec.commandLine().getOut();
            out.print(json ? r.toJson() + "\n" : r.toText());
            out.flush();
            return 0;
        }
    }

    /**
     * The ladder to use: the one given, else models/ladder.yaml under the working directory, else
     * the one in the checkout the running jar was built in (target/gearbox.jar → models/ladder.yaml).
     */
    static Path resolveLadder(Path given) throws NoSuchFileException {
        if (given != null) return given;
        if (Files.isRegularFile(DEFAULT_LADDER)) return DEFAULT_LADDER;
        try {
            Path code = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = code.getParent() != null ? code.getParent().getParent() : null;
            if (root != null && Files.isRegularFile(root.resolve(DEFAULT_LADDER))) return root.resolve(DEFAULT_LADDER);
        } catch (Exception ignored) {
            // no code location: only the working directory counts
        }
        throw new NoSuchFileException(DEFAULT_LADDER.toString(), null, "no ladder given and no default ladder found (pass --ladder FILE)");
    }
}
