package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;
import dev.gearbox.backend.KVCache;
import dev.gearbox.sample.TokenChoice;

import java.util.IdentityHashMap;
import java.util.List;

/**
 * One forward pass over several sequences at once, for continuous batching: the rows of every
 * sequence's new tokens are concatenated, so each weight matrix is read once per step for the whole
 * batch ([rows × dim] times the matrix), while rope positions, KV stores and attention run per
 * sequence over its own cache. A sequence may bring one token (decode) or a chunk of its prompt
 * (prefill) in the same step, and each runs with its own {@link Adaptation} (SVF expert) or none:
 * the base products run over all rows, the adaptations per sequence. The layers themselves are {@link ForwardPass}, shared with {@link Sequence}.
 *
 * <p>Keeps its activation buffers between steps; not thread-safe (one executor lane owns one).
 */
public final class BatchStep {
    private final Model model;
    private final ModelConfig c;
    private final Backend be;

    private final ForwardPass pass;
    private int seqCap;
    private Buffer last, logits;         // the last row of each sequence, and their logits

    BatchStep(Model model, Backend be) {
        this.model = model;
        this.c = model.config();
        this.be = be;
        this.pass = new ForwardPass(model, be);
    }

    /** The backend (lane) this step runs on. */
    public Backend backend() { return be; }

    /**
     * Feeds {@code newTokens[i]} to {@code seqs.get(i)} (after what it holds) and returns, per
     * sequence, the logits after its last new token. Every sequence must belong to this model,
     * appear once, bring at least one token and have room for them.
     */
    public float[][] step(List<Sequence> seqs, int[][] newTokens) {
        return step(seqs, newTokens, null, null).logits();
    }

    /**
     * What a batched step brings back per sequence: {@code chosen[i]} where a choice was asked for
     * it (made by the backend where the logits live), else {@code logits[i]}.
     */
    public record Rows(float[][] logits, TokenChoice.Choice[] chosen) {}

    /**
     * Like {@link #step(List, int[][])}, but sequence {@code i} with {@code choices[i] != null}
     * gets its next token chosen by the backend (draw number {@code draws[i]}) instead of its
     * logits read: on a GPU, 8 bytes come back for it instead of a vocabulary of floats.
     * {@code choices} and {@code draws} may be null (every row's logits are read).
     */
    public Rows step(List<Sequence> seqs, int[][] newTokens, TokenChoice[] choices, int[] draws) {
        int ns = seqs.size();
        if (ns == 0) throw new IllegalArgumentException("a batched step needs at least one sequence");
        if (newTokens.length != ns) throw new IllegalArgumentException(ns + " sequences but " + newTokens.length + " token arrays");
        if (choices != null && (choices.length != ns || draws == null || draws.length != ns)) {
            throw new IllegalArgumentException(ns + " sequences need " + ns + " choices and draw numbers");
        }
        IdentityHashMap<Sequence, Boolean> seen = new IdentityHashMap<>();
        int rows = 0;
        for (int i = 0; i < ns; i++) {
            Sequence s = seqs.get(i);
            int[] t = newTokens[i];
            if (s.model() != model) throw new IllegalArgumentException("sequence " + i + " belongs to another model");
            if (s.backend() != be) throw new IllegalArgumentException("sequence " + i + " lives on " + s.backend().name() + ", this step runs on " + be.name());
            if (seen.put(s, Boolean.TRUE) != null) throw new IllegalArgumentException("sequence " + i + " appears twice in one step");
            if (t == null || t.length == 0) throw new IllegalArgumentException("sequence " + i + " has no new tokens");
            if (s.position() + t.length > s.capacity()) {
                throw new IllegalArgumentException("context full: sequence " + i + " holds " + s.position() + " positions + " + t.length
                        + " new tokens exceeds its context size " + s.capacity());
            }
            for (int id : t) {
                if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            rows += t.length;
        }
        try (Backend.StepScope scope = be.openStep(rows)) {
            return run(seqs, newTokens, choices, draws, rows);
        }
    }

    /** The step itself, inside its scope: a single-token decode step when {@code rows} is 1. */
    private Rows run(List<Sequence> seqs, int[][] newTokens, TokenChoice[] choices, int[] draws, int rows) {
        int ns = seqs.size();
        ensureBuffers(ns);

        int[] all = new int[rows];
        int[] start = new int[ns], count = new int[ns], pos0 = new int[ns];
        KVCache[] caches = new KVCache[ns];
        Adaptation[] adapt = new Adaptation[ns];
        for (int i = 0, r = 0; i < ns; i++) {
            start[i] = r;
            count[i] = newTokens[i].length;
            pos0[i] = seqs.get(i).position();
            caches[i] = seqs.get(i).cache();
            adapt[i] = seqs.get(i).adaptation();
            System.arraycopy(newTokens[i], 0, all, r, count[i]);
            r += count[i];
        }
        pass.run(all, caches, pos0, start, count, adapt);
        Weights w = model.weights();
        Buffer x = pass.x;
        // Only each sequence's last row needs the output norm and the vocabulary projection.
        for (int i = 0; i < ns; i++) {
            int lastRow = start[i] + newTokens[i].length - 1;
            be.copy(x, (long) lastRow * c.dim(), last, (long) i * c.dim(), c.dim());
        }
        be.rmsNorm(last, last, w.outputNorm(), ns, c.dim(), c.rmsEps());
        if (pass.profiling) pass.meter.other();
        be.matmul(w.output(), last, ns, logits);
        if (pass.profiling) pass.meter.matmul(w.output().info(), ns);
        float[][] out = new float[ns][];
        TokenChoice.Choice[] chosen = new TokenChoice.Choice[ns];
        int asked = 0;
        for (int i = 0; i < ns; i++) if (choices != null && choices[i] != null) asked++;
        if (asked > 0) {
            int[] rowsAsked = new int[asked], drawsAsked = new int[asked];
            TokenChoice[] choicesAsked = new TokenChoice[asked];
            for (int i = 0, k = 0; i < ns; i++) {
                if (choices[i] == null) continue;
                rowsAsked[k] = i;
                choicesAsked[k] = choices[i];
                drawsAsked[k++] = draws[i];
            }
            TokenChoice.Choice[] got = be.chooseRows(logits, c.vocabSize(), rowsAsked, choicesAsked, drawsAsked);
            for (int k = 0; k < asked; k++) chosen[rowsAsked[k]] = got[k];
        }
        for (int i = 0; i < ns; i++) {
            if (chosen[i] == null) {
                out[i] = new float[c.vocabSize()];
                be.read(logits, (long) i * c.vocabSize(), out[i], 0, c.vocabSize());
            }
            seqs.get(i).advance(newTokens[i].length);
        }
        if (pass.profiling) pass.meter.emit();
        return new Rows(out, chosen);
    }

    private void ensureBuffers(int ns) {
        if (ns > seqCap) {
            seqCap = ns;
            last = be.allocate((long) ns * c.dim());
            logits = be.allocate((long) ns * c.vocabSize());
        }
    }
}
