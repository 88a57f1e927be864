package dev.gearbox.cli;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderConfig;
import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfDecomposer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code gearbox svf}: Transformer²'s singular-value fine-tuning, so far the groundwork only
 * ({@code decompose}); see docs/svf.md for what exists and what does not.
 */
@Command(name = "svf", mixinStandardHelpOptions = true,
        description = "Singular-value fine-tuning (Transformer² SVF): decompose a tier's weight matrices; bench experts.",
        subcommands = {SvfCommand.Decompose.class, SvfBenchCommand.class})
public final class SvfCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand (decompose)");
    }

    /** {@code gearbox svf decompose}: the thin SVD of each chosen matrix of one tier's model, to a sidecar GGUF. */
    @Command(name = "decompose", mixinStandardHelpOptions = true,
            description = "Write the thin SVD (U, s, V as F32) of a tier's MLP and/or attention matrices to a sidecar GGUF.")
    static final class Decompose implements Callable<Integer> {
        @Option(names = {"-l", "--ladder"}, paramLabel = "FILE",
                description = "Ladder YAML (default: models/ladder.yaml of the repository, found from the working directory or the jar).")
        Path ladder;

        @Option(names = "--tier", paramLabel = "NAME", description = "the tier whose model is decomposed (default: the largest)")
        String tier;

        @Option(names = "--matrices", paramLabel = "SET", description = "mlp (ffn_gate/up/down), attn (attn_q/k/v/output) or all (default ${DEFAULT-VALUE})")
        String matrices = "mlp";

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "the sidecar (default: <model>.svf.gguf beside the model)")
        Path output;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            MatrixSelection sel;
            try {
                sel = MatrixSelection.parse(matrices);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--matrices: " + e.getMessage());
            }
            // Only the ladder file is read: decomposing one tier has no reason to load every model.
            LadderConfig config = LadderConfig.read(ladder != null ? ladder : Ladder.defaultPath());
            LadderConfig.TierConfig tc = tier == null ? config.tiers().getLast() : config.tiers().stream()
                    .filter(t -> t.name().equals(tier)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no tier named '" + tier + "' in " + config.file()));
            Path model = config.resolve(tc.model());
            Path dest = output != null ? output : SvfDecomposer.defaultSidecar(model);
            long start = System.nanoTime();
            int[] count = {0};
            SvfDecomposer.write(model, tc.name(), sel, dest, name -> {
                count[0]++;
                err.println("svf: " + name);
                err.flush();
            });
            out.printf("%s: %d matrices (%s) of tier '%s' (%s) in %.1f s%n", dest, count[0], sel.label(), tc.name(), model,
                    (System.nanoTime() - start) / 1e9);
            out.flush();
            return Main.EXIT_OK;
        }
    }
}
