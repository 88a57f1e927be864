package dev.gearbox.constrain;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tokenizer.Tokenizers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Micro-benchmark of constrained decoding on a real vocabulary: replays a schema-conforming JSON
 * output token by token and, at each step, times {@link Constraint#allows} of the next token, a full
 * mask computed afresh (trie walk over memoised transitions), a full mask of a brand-new constraint
 * replayed to the same point (every transition built on the way: the cold cost) and the mask served
 * from the per-state cache. Not a test:
 * <pre>java -cp target/classes:$(cat target/test-assets/classpath.txt) dev.gearbox.constrain.ConstraintBench [target/test-assets/qwen3-vocab.gguf]</pre>
 */
public final class ConstraintBench {
    private ConstraintBench() {}

    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","minLength":1,"maxLength":40},
              "age":{"type":"integer"},
              "email":{"type":"string"},
              "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},
                 "zip":{"type":"string","maxLength":10}},"required":["street","city"]},
              "tags":{"type":"array","items":{"type":"string"},"maxItems":5},
              "score":{"type":"number"},
              "active":{"type":"boolean"},
              "status":{"enum":["new","active","closed"]}},
             "required":["name","age","tags","active","status"],"additionalProperties":false}""";

    static final String OUTPUT = "{\"name\": \"Ada Lovelace, Countess of Lovelace\", \"age\": 36, "
            + "\"email\": \"ada@example.org\", \"address\": {\"street\": \"12 St James's Square\", \"city\": \"London\"}, "
            + "\"tags\": [\"mathematics\", \"analytical engine\", \"poetry\"], \"score\": 99.5, \"active\": false, \"status\": \"closed\"}";

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args.length > 0 ? args[0] : "target/test-assets/qwen3-vocab.gguf");
        Tokenizer tok;
        try (GGUFFile f = GGUFFile.open(path)) {
            tok = Tokenizers.fromGGUF(f);
        }
        long t0 = System.nanoTime();
        TokenVocabulary vocab = TokenVocabulary.of(tok);
        long t1 = System.nanoTime();
        Grammar g = JsonSchemaCompiler.compile(SCHEMA);
        long t2 = System.nanoTime();
        System.out.printf(Locale.ROOT, "vocab %s: %d tokens, trie %d nodes, built in %.0f ms; schema compiled to %d rules in %.2f ms%n",
                path.getFileName(), vocab.size(), vocab.nodeCount(), (t1 - t0) / 1e6, g.ruleCount(), (t2 - t1) / 1e6);
        int[] tokens = tok.encode(OUTPUT, false, false);
        System.out.printf(Locale.ROOT, "output: %d bytes, %d tokens%n", OUTPUT.getBytes(StandardCharsets.UTF_8).length, tokens.length);

        // Warm the JIT on the whole replay a few times, untimed.
        for (int r = 0; r < 5; r++) replay(g, vocab, tokens, false);
        double[][] perStep = replay(g, vocab, tokens, true);
        System.out.println("step  allowed  allows_us  mask_us  cold_mask_us  cached_mask_us  text-so-far(tail)");
        double[] sum = new double[4];
        double[][] cols = new double[4][tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            double[] s = perStep[i];
            String sofar = tok.decode(Arrays.copyOf(tokens, i), false);
            String tail = sofar.length() > 24 ? sofar.substring(sofar.length() - 24) : sofar;
            System.out.printf(Locale.ROOT, "%4d %8d %10.2f %8.1f %13.1f %15.1f  %s%n", i, (int) s[4], s[0], s[1], s[2], s[3],
                    tail.replace("\n", "\\n"));
            for (int k = 0; k < 4; k++) {
                sum[k] += s[k];
                cols[k][i] = s[k];
            }
        }
        String[] names = {"allows()", "mask (warm transitions)", "mask (cold, new constraint)", "mask (cached state)"};
        for (int k = 0; k < 4; k++) {
            double[] c = cols[k].clone();
            Arrays.sort(c);
            System.out.printf(Locale.ROOT, "%-28s mean %9.2f us  median %9.2f us  max %9.2f us%n", names[k], sum[k] / tokens.length,
                    c[c.length / 2], c[c.length - 1]);
        }
        // A whole request the cheap way: allows() of the (here: known-good) token, accept; plus one
        // mask per step as a worst case where every sampled token were rejected.
        long best = Long.MAX_VALUE, bestMasked = Long.MAX_VALUE, bestShared = Long.MAX_VALUE;
        ConstraintIndex shared = ConstraintIndex.of(g, vocab);
        for (int r = 0; r < 20; r++) {
            long a = System.nanoTime();
            Constraint c = new Constraint(g, vocab);
            for (int t : tokens) {
                if (!c.allows(t)) throw new IllegalStateException("replay rejected");
                c.accept(t);
            }
            long b = System.nanoTime();
            Constraint m = new Constraint(g, vocab);
            long[] bits = new long[(vocab.size() + 63) / 64];
            for (int t : tokens) {
                m.fillAllowed(bits);
                m.accept(t);
            }
            long e = System.nanoTime();
            Constraint w = shared.newConstraint(); // a later request with the same schema
            for (int t : tokens) {
                w.fillAllowed(bits);
                w.accept(t);
            }
            long f = System.nanoTime();
            best = Math.min(best, b - a);
            bestMasked = Math.min(bestMasked, e - b);
            bestShared = Math.min(bestShared, f - e);
        }
        System.out.printf(Locale.ROOT, "whole request (%d tokens): allows+accept, new index: %.1f us/token%n", tokens.length, best / 1e3 / tokens.length);
        System.out.printf(Locale.ROOT, "whole request, mask every step: new index (first request of a schema) %.1f us/token;"
                + " shared index (later requests) %.1f us/token%n", bestMasked / 1e3 / tokens.length, bestShared / 1e3 / tokens.length);
        long c0 = System.nanoTime();
        for (int r = 0; r < 20; r++) JsonSchemaCompiler.compile(SCHEMA);
        System.out.printf(Locale.ROOT, "schema compile (warm): %.2f ms%n", (System.nanoTime() - c0) / 1e6 / 20);
    }

    // Per step: allows us, uncached mask us, cold mask us, cached mask us, allowed count.
    private static double[][] replay(Grammar g, TokenVocabulary vocab, int[] tokens, boolean timed) {
        double[][] out = new double[tokens.length][5];
        Constraint c = new Constraint(g, vocab);
        long[] bits = new long[(vocab.size() + 63) / 64];
        for (int i = 0; i < tokens.length; i++) {
            int t = tokens[i];
            int reps = timed ? 2000 : 10;
            long a = System.nanoTime();
            boolean ok = true;
            for (int r = 0; r < reps; r++) ok &= c.allows(t);
            long b = System.nanoTime();
            if (!ok) throw new IllegalStateException("token " + i + " rejected");
            int mreps = timed ? 20 : 2;
            long[] m = null;
            long c0 = System.nanoTime();
            for (int r = 0; r < mreps; r++) m = c.computeMaskUncached();
            long c1 = System.nanoTime();
            // Cold: a fresh constraint replayed to here, then its first mask (transitions built on the way).
            long cold = Long.MAX_VALUE;
            for (int r = 0; r < (timed ? 3 : 1); r++) {
                Constraint f = new Constraint(g, vocab);
                for (int j = 0; j < i; j++) f.accept(tokens[j]);
                long x = System.nanoTime();
                f.fillAllowed(bits);
                cold = Math.min(cold, System.nanoTime() - x);
            }
            c.fillAllowed(bits); // fills the cache
            long d0 = System.nanoTime();
            for (int r = 0; r < mreps; r++) c.fillAllowed(bits);
            long d1 = System.nanoTime();
            int count = 0;
            for (long w : m) count += Long.bitCount(w);
            out[i] = new double[] {(b - a) / 1e3 / reps, (c1 - c0) / 1e3 / mreps, cold / 1e3, (d1 - d0) / 1e3 / mreps, count};
            c.accept(t);
        }
        return out;
    }
}
