package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;
import dev.gearbox.backend.KVCache;

import java.util.List;

/**
 * Reads several prompts in one batched prefill, for a reader that needs every position rather
 * than the next token (the gatekeeper): the rows of all prompts go through the matrices together,
 * as in {@link BatchStep}, and each row's final hidden state (and, when asked, its logits) is
 * handed to a callback a chunk of rows at a time, so a 150k-token vocabulary never needs the logits
 * of every row in memory at once. With {@code layers} below the model's, only the first blocks
 * run (features from early layers, no logits); hidden states are always passed through the
 * model's output norm, so features from any depth are on one scale.
 *
 * <p>Keeps its buffers between calls; one thread at a time.
 */
public final class PromptReader {
    /** Rows this many at a time through the vocabulary matrix (bounds the logits buffer). */
    static final int LOGIT_CHUNK = 64;

    /** One row of one prompt. The arrays are reused for the next row: copy what you keep. */
    public interface Rows {
        void row(int prompt, int position, float[] hidden, float[] logits);
    }

    private final Model model;
    private final ModelConfig c;
    private final Backend be;
    private final ForwardPass pass;
    private final int layers;
    private final boolean logits;
    private Buffer normed, chunkIn, chunkLogits;
    private int normedRows;
    private final float[] hiddenRow, logitRow;

    /** {@code layers}: how many blocks to run (0 = all); {@code logits}: hand each row's logits too (all layers only). */
    public PromptReader(Model model, Backend be, int layers, boolean logits) {
        this.model = model;
        this.c = model.config();
        this.be = be;
        this.pass = new ForwardPass(model, be);
        this.layers = layers <= 0 ? c.layers() : layers;
        if (this.layers > c.layers()) throw new IllegalArgumentException("the model has " + c.layers() + " layers, not " + layers);
        if (logits && this.layers < c.layers()) throw new IllegalArgumentException("logits need every layer (" + c.layers() + "), not " + layers);
        this.logits = logits;
        this.hiddenRow = new float[c.dim()];
        this.logitRow = logits ? new float[c.vocabSize()] : null;
    }

    public int layers() { return layers; }

    /**
     * Feeds prompt {@code i} to sequence {@code i} (after what it holds) in one batched pass and
     * hands every new row to {@code out}. The sequences must be this model's, on this reader's backend,
     * with room for their prompts.
     */
    public void read(List<Sequence> seqs, List<int[]> prompts, Rows out) {
        int ns = seqs.size();
        if (ns == 0 || prompts.size() != ns) throw new IllegalArgumentException(ns + " sequences for " + prompts.size() + " prompts");
        int rows = 0;
        for (int i = 0; i < ns; i++) {
            Sequence s = seqs.get(i);
            int[] p = prompts.get(i);
            if (s.model() != model) throw new IllegalArgumentException("sequence " + i + " belongs to another model");
            if (s.layers() < layers) throw new IllegalArgumentException("sequence " + i + " caches " + s.layers() + " layers, the reader runs " + layers);
            if (p.length == 0) throw new IllegalArgumentException("prompt " + i + " has no tokens");
            if (s.position() + p.length > s.capacity()) {
                throw new IllegalArgumentException("prompt " + i + " has " + p.length + " tokens but its sequence has room for " + (s.capacity() - s.position()));
            }
            for (int t : p) {
                if (t < 0 || t >= c.vocabSize()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            rows += p.length;
        }
        int[] all = new int[rows];
        int[] start = new int[ns], count = new int[ns], pos0 = new int[ns];
        KVCache[] caches = new KVCache[ns];
        for (int i = 0, r = 0; i < ns; i++) {
            int[] p = prompts.get(i);
            start[i] = r;
            count[i] = p.length;
            pos0[i] = seqs.get(i).position();
            caches[i] = seqs.get(i).cache();
            System.arraycopy(p, 0, all, r, p.length);
            r += p.length;
        }
        try (Backend.StepScope scope = be.openStep(rows)) {
            pass.run(all, caches, pos0, start, count, layers);
            if (normedRows < rows) {
                normed = be.allocate((long) rows * c.dim());
                normedRows = rows;
            }
            be.rmsNorm(pass.x, normed, model.weights().outputNorm(), rows, c.dim(), c.rmsEps());
            for (int i = 0; i < ns; i++) {
                for (int r0 = 0; r0 < count[i]; r0 += LOGIT_CHUNK) {
                    int n = Math.min(LOGIT_CHUNK, count[i] - r0);
                    if (logits) project(start[i] + r0, n);
                    for (int r = 0; r < n; r++) {
                        be.read(normed, (long) (start[i] + r0 + r) * c.dim(), hiddenRow, 0, c.dim());
                        if (logits) be.read(chunkLogits, (long) r * c.vocabSize(), logitRow, 0, c.vocabSize());
                        out.row(i, pos0[i] + r0 + r, hiddenRow, logitRow);
                    }
                }
            }
        }
        for (int i = 0; i < ns; i++) seqs.get(i).advance(count[i]);
    }

    /** Logits of normed rows [from, from + n) into chunkLogits' first n rows. */
    private void project(int from, int n) {
        if (chunkIn == null) {
            chunkIn = be.allocate((long) LOGIT_CHUNK * c.dim());
            chunkLogits = be.allocate((long) LOGIT_CHUNK * c.vocabSize());
        }
        be.copy(normed, (long) from * c.dim(), chunkIn, 0, (long) n * c.dim());
        be.matmul(model.weights().output(), chunkIn, n, chunkLogits);
    }
}
