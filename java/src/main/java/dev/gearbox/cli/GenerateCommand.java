package dev.gearbox.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.generate.GenerationResult;
import dev.gearbox.generate.Generator;
import dev.gearbox.generate.LogitSource;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tensor.Parallel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gearbox generate}: continues a prompt, streaming the text to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continues a prompt, streaming the generated text to stdout.",
                "Logs and timings go to stderr; --json prints one JSON object instead.",
                "Sampling defaults are llama.cpp's: --temp 0.8 --top-k 40 --top-p 0.95 --min-p 0.05 --repeat-penalty 1.0;"
                        + " --temp 0 is greedy."})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource source;

    /** The prompt, given inline or as a file (for prompts too long or too awkward for a shell argument). */
    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt to continue.")
        String text;

        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "Read the prompt from FILE (UTF-8, used as is).")
        Path file;

        String read() throws IOException {
            if (text != null) return text;
            if (!Files.isRegularFile(file)) throw new IOException(file + ": prompt file not found");
            return Files.readString(file, StandardCharsets.UTF_8);
        }
    }

    @Option(names = "--json", description = "Print one JSON object at the end instead of streaming text.")
    boolean json;

    @Option(names = "--no-special", description = "Do not turn special-token text in the prompt (e.g. <|im_start|>) into special tokens.")
    boolean noSpecial;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SamplingParams params = sampling.params();
        String prompt = source.read();
        long t0 = System.nanoTime();
        try (Model m = model.load()) {
            int ctx = model.contextSize(m);
            if (ctx > m.config().contextLength()) {
                err.printf("gearbox: warning: --ctx %d is larger than the model was trained for (%d)%n", ctx, m.config().contextLength());
            }
            err.printf(Locale.ROOT, "gearbox: loaded %s (%s) in %.0f ms, context %d tokens, %d threads%n",
                    model.model.getFileName(), BenchCommand.modelName(m), (System.nanoTime() - t0) / 1e6, ctx, Parallel.threads());
            err.flush();
            Tokenizer tok = m.tokenizer();
            int[] ids = tok.encode(prompt, true, !noSpecial);
            if (ids.length > ctx) {
                throw new IllegalArgumentException("the prompt is " + ids.length + " tokens, longer than the context of "
                        + ctx + " tokens (use a larger --ctx, up to the model's " + m.config().contextLength() + ")");
            }
            try (Sequence seq = m.newSequence(ctx)) {
                Generator.TextListener listener = json ? Generator.TextListener.NONE : piece -> {
                    out.print(piece);
                    out.flush();
                    // The reader went away (e.g. "| head"): stop spending compute on text nobody reads.
                    if (out.checkError()) throw new OutputClosed();
                };
                GenerationResult r;
                try {
                    r = new Generator(tok).generate(LogitSource.of(seq), ids, params, listener);
                } catch (OutputClosed e) {
                    return Main.EXIT_OK;
                }
                if (json) {
                    out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(r, ctx)));
                } else {
                    out.println();
                }
                out.flush();
                err.println(summary(r));
                err.flush();
            }
        }
        return Main.EXIT_OK;
    }

    /** Thrown from the text listener when stdout can no longer be written. */
    private static final class OutputClosed extends RuntimeException {
        OutputClosed() {
            super("stdout closed", null, false, false);
        }
    }

    static String summary(GenerationResult r) {
        return String.format(Locale.ROOT,
                "gearbox: prompt %d tokens in %.1f ms (%.1f t/s), generated %d tokens, decode %.1f ms for %d steps (%.1f t/s), stop: %s%s, seed %d",
                r.promptTokens().length, r.prefillNanos() / 1e6, r.prefillTokensPerSecond(),
                r.tokens().length, r.decodeNanos() / 1e6, r.decodeSteps(), r.decodeTokensPerSecond(),
                r.stopReason().label(), r.stopString() != null ? " (" + r.stopString() + ")" : "", r.seed());
    }

    static ObjectNode toJson(GenerationResult r, int ctx) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode prompt = o.putArray("prompt_tokens");
        for (int t : r.promptTokens()) prompt.add(t);
        ArrayNode tokens = o.putArray("tokens");
        for (int t : r.tokens()) tokens.add(t);
        o.put("text", r.text());
        ArrayNode lp = o.putArray("logprobs");
        for (float f : r.logprobs()) lp.add(f);
        o.put("stop_reason", r.stopReason().label());
        if (r.stopString() != null) o.put("stop_string", r.stopString());
        else o.putNull("stop_string");
        o.put("seed", r.seed());
        o.put("n_ctx", ctx);
        ObjectNode timings = o.putObject("timings");
        timings.put("prompt_n", r.promptTokens().length);
        timings.put("prompt_ms", r.prefillNanos() / 1e6);
        timings.put("prompt_per_second", r.prefillTokensPerSecond());
        timings.put("predicted_n", r.tokens().length);
        timings.put("decode_steps", r.decodeSteps());
        timings.put("decode_ms", r.decodeNanos() / 1e6);
        timings.put("decode_per_second", r.decodeTokensPerSecond());
        timings.put("sample_ms", r.sampleNanos() / 1e6);
        return o;
    }
}
