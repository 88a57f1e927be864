package dev.gearbox.cli;

import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gearbox synth}: writes a randomly initialised llama/qwen2/qwen3 GGUF for tests and benchmarks. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a synthetic (random-weight) model GGUF that Gearbox and llama.cpp can load.")
public final class SynthCommand implements Callable<Integer> {
    @Option(names = "--preset", description = "Starting shape: ${COMPLETION-CANDIDATES}; other options override it.",
            completionCandidates = Presets.class)
    String preset;

    @Option(names = "--arch", description = "llama, qwen2 or qwen3") String arch;
    @Option(names = "--dim", description = "embedding length (n_embd)") Integer dim;
    @Option(names = "--layers", description = "number of blocks") Integer layers;
    @Option(names = "--heads", description = "attention heads") Integer heads;
    @Option(names = "--kv-heads", description = "key/value heads (GQA)") Integer kvHeads;
    @Option(names = "--head-dim", description = "head size when not dim/heads (qwen3 style)") Integer headDim;
    @Option(names = "--ff", description = "feed-forward length") Integer ff;
    @Option(names = "--vocab", description = "vocabulary size (>= 259)") Integer vocab;
    @Option(names = "--ctx", description = "context length") Integer ctx;
    @Option(names = "--rope-base", description = "rope frequency base") Double ropeBase;
    @Option(names = "--rms-eps", description = "RMSNorm epsilon") Double rmsEps;
    @Option(names = "--llama3-rope-factor", description = "enable Llama-3.1 rope scaling with this factor (low 1, high 4, original context 8192)")
    Double llama3Factor;
    @Option(names = "--tied", negatable = true, description = "share token_embd as the output matrix") Boolean tied;
    @Option(names = "--type", description = "type of the 2-D weight matrices, e.g. F32, F16, BF16, Q8_0, Q4_K, Q3_K, Q2_K") String type;
    @Option(names = "--embd-type", description = "type of token_embd (default: --type)") String embdType;
    @Option(names = "--seed", description = "random seed (default ${DEFAULT-VALUE})") long seed = 1;
    @Option(names = "--name", description = "general.name") String name;
    @Option(names = "--vocab-from", paramLabel = "GGUF", description = "take the tokenizer (tokens, merges, special ids, chat template) from this GGUF instead of a synthetic one")
    Path vocabFrom;
    @Option(names = {"-o", "--output"}, required = true, description = "output GGUF file") Path output;

    static final class Presets implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return SyntheticModel.PRESETS.iterator(); }
    }

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            SyntheticModel.Builder b = preset != null ? SyntheticModel.preset(preset) : SyntheticModel.builder();
            if (arch != null) b.arch(arch);
            if (dim != null) b.embeddingLength(dim);
            if (layers != null) b.layers(layers);
            if (heads != null) b.heads(heads);
            if (kvHeads != null) b.kvHeads(kvHeads);
            else if (heads != null && preset == null) b.kvHeads(heads);
            if (headDim != null) b.headDim(headDim);
            if (ff != null) b.feedForward(ff);
            if (vocabFrom != null) {
                try {
                    b.vocabFrom(vocabFrom);
                } catch (java.io.IOException e) {
                    throw new IllegalArgumentException("cannot read --vocab-from " + vocabFrom + ": " + e.getMessage(), e);
                }
            }
            if (vocab != null) b.vocab(vocab);
            if (ctx != null) b.contextLength(ctx);
            if (ropeBase != null) b.ropeBase(ropeBase);
            if (rmsEps != null) b.rmsEps(rmsEps);
            if (llama3Factor != null) b.llama3RopeScaling(SyntheticModel.Llama3RopeScaling.llama31(llama3Factor));
            if (tied != null) b.tiedOutput(tied);
            if (type != null) b.weightType(parseType(type));
            if (embdType != null) b.embeddingType(parseType(embdType));
            if (name != null) b.name(name);
            b.seed(seed);
            SyntheticModel m = b.build();
            long t0 = System.nanoTime();
            m.write(output);
            out.printf(Locale.ROOT, "wrote %s: %s, %d tensors, %,d parameters, weights %s (%.1f s)%n", output, m.arch().ggufName(),
                    m.tensors().size(), m.parameterCount(), m.weightType(), (System.nanoTime() - t0) / 1e9);
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("synth: " + e.getMessage());
            return 2;
        } catch (java.io.IOException | RuntimeException e) {
            err.println("synth: failed to write " + output + ": " + e);
            return 1;
        }
    }

    static GGMLType parseType(String s) {
        try {
            return GGMLType.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown tensor type '" + s + "'");
        }
    }
}
