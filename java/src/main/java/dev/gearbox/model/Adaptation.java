package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Weight;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A change to some of a model's matrices that one sequence runs with and others in the same batch
 * need not (an SVF expert, built by {@code svf.SvfAdapter}). Each changed matrix is either
 * <b>exact</b>, an adapted W' used in place of W, or <b>low-rank</b>, {@code W x + B (A x)} with
 * A = diag(δ_r) V_rᵀ ({@code r x cols}) and B = U_r ({@code rows x r}). The weights live on the
 * model's backend for as long as the model (the seam has no free for weights), so an adaptation
 * is built once per expert and shared by every sequence that uses it.
 *
 * <p>{@link ForwardPass} applies it after the matrix's product, per segment of a batch.
 */
public final class Adaptation {

    /** The matrices of a layer that an adaptation may change, by their GGUF tensor names. */
    public enum Matrix {
        Q("attn_q"), K("attn_k"), V("attn_v"), O("attn_output"), GATE("ffn_gate"), UP("ffn_up"), DOWN("ffn_down");

        final String tensor;

        Matrix(String tensor) { this.tensor = tensor; }

        /** E.g. {@code blk.3.ffn_up.weight}. */
        public String tensorName(int layer) { return "blk." + layer + "." + tensor + ".weight"; }
    }

    /** One changed matrix: {@code exact} W', or the low-rank factors {@code a} ({@code r x cols}) and {@code b} ({@code rows x r}). */
    public record Change(Weight exact, Weight a, Weight b) {
        public boolean lowRank() { return exact == null; }

        /** r of the low-rank form, 0 for the exact one. */
        public int rank() { return a == null ? 0 : Math.toIntExact(a.info().dim(1)); }

        /** Output rows of the matrix. */
        int rows() { return Math.toIntExact(exact != null ? exact.info().dim(1) : b.info().dim(1)); }
    }

    private static final Pattern TENSOR = Pattern.compile("blk\\.(\\d+)\\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\\.weight");

    private final Model model;
    private final String name;
    private final Change[][] changes;   // [layer][Matrix.ordinal()], null where unchanged
    private final int maxRank;
    private final int changed;
    private final double extraFlopsPerToken;

    private Adaptation(Model model, String name, Change[][] changes) {
        this.model = model;
        this.name = name;
        this.changes = changes;
        int r = 0, n = 0;
        for (Change[] layer : changes) {
            for (Change c : layer) {
                if (c == null) continue;
                n++;
                r = Math.max(r, c.rank());
            }
        }
        this.maxRank = r;
        this.changed = n;
        double f = 0;
        for (Change[] layer : changes) {
            for (Change c : layer) {
                // B (A x): r x cols then rows x r multiply-adds per token; the exact form costs what W does.
                if (c != null && c.lowRank()) f += 2.0 * c.rank() * (Math.toIntExact(c.a().info().dim(0)) + c.rows());
            }
        }
        this.extraFlopsPerToken = f;
    }

    /** FLOPs a token costs beyond the base model's: the low-rank corrections' products (0 for exact changes). */
    public double extraFlopsPerToken() { return extraFlopsPerToken; }

    public Model model() { return model; }

    /** What it is, e.g. {@code m:add}: shown in errors and logs. */
    public String name() { return name; }

    /** The change to {@code m} of {@code layer}, or null when that matrix is unchanged. */
    public Change change(int layer, Matrix m) { return changes[layer][m.ordinal()]; }

    /** The largest r of its low-rank changes (0 when every change is exact): the scratch a pass needs. */
    int maxRank() { return maxRank; }

    /** How many matrices it changes. */
    public int changedMatrices() { return changed; }

    @Override
    public String toString() { return name + " (" + changed + " matrices)"; }

    /** Collects the changed matrices, placing each on the model's backend as it is given. */
    public static final class Builder {
        private final Model model;
        private final String name;
        private final Change[][] changes;

        public Builder(Model model, String name) {
            this.model = model;
            this.name = name;
            this.changes = new Change[model.config().layers()][Matrix.values().length];
        }

        /** W' of {@code tensor} ({@code rows x cols} of the model's matrix, row-major), used in its place. */
        public Builder exact(String tensor, float[] w) {
            int[] at = locate(tensor);
            int rows = rows(at), cols = cols(at);
            if (w.length != (long) rows * cols) throw shape(tensor, w.length + " values", rows + " x " + cols);
            put(at, new Change(backend().upload(tensor + ".adapted", w, rows, cols), null, null));
            return this;
        }

        /** {@code W x + b (a x)}: {@code a} is {@code rank x cols}, {@code b} is {@code rows x rank}, both row-major. */
        public Builder lowRank(String tensor, int rank, float[] a, float[] b) {
            int[] at = locate(tensor);
            int rows = rows(at), cols = cols(at);
            if (rank < 1 || rank > Math.min(rows, cols)) throw new IllegalArgumentException(tensor + ": rank " + rank + " outside 1.." + Math.min(rows, cols));
            if (a.length != (long) rank * cols) throw shape(tensor + " (A)", a.length + " values", rank + " x " + cols);
            if (b.length != (long) rows * rank) throw shape(tensor + " (B)", b.length + " values", rows + " x " + rank);
            put(at, new Change(null, backend().upload(tensor + ".lr_a", a, rank, cols), backend().upload(tensor + ".lr_b", b, rows, rank)));
            return this;
        }

        public Adaptation build() {
            return new Adaptation(model, name, changes);
        }

        private Backend backend() { return model.backend(); }

        private void put(int[] at, Change c) {
            if (changes[at[0]][at[1]] != null) throw new IllegalArgumentException(name + ": " + Matrix.values()[at[1]].tensorName(at[0]) + " is changed twice");
            changes[at[0]][at[1]] = c;
        }

        /** {layer, matrix ordinal} of a tensor name, or an error naming what can be adapted. */
        private int[] locate(String tensor) {
            Matcher m = TENSOR.matcher(tensor);
            if (!m.matches()) {
                throw new IllegalArgumentException(name + ": '" + tensor + "' is not a matrix an adaptation can change (blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight)");
            }
            int layer = Integer.parseInt(m.group(1));
            if (layer >= model.config().layers()) throw new IllegalArgumentException(name + ": '" + tensor + "' names layer " + layer + " of a model with " + model.config().layers());
            for (Matrix x : Matrix.values()) if (x.tensor.equals(m.group(2))) return new int[] {layer, x.ordinal()};
            throw new AssertionError(m.group(2));
        }

        private int rows(int[] at) {
            ModelConfig c = model.config();
            return switch (Matrix.values()[at[1]]) {
                case Q -> c.qDim();
                case K, V -> c.kvDim();
                case O, DOWN -> c.dim();
                case GATE, UP -> c.ffDim();
            };
        }

        private int cols(int[] at) {
            ModelConfig c = model.config();
            return switch (Matrix.values()[at[1]]) {
                case Q, K, V, GATE, UP -> c.dim();
                case O -> c.qDim();
                case DOWN -> c.ffDim();
            };
        }

        private IllegalArgumentException shape(String what, String got, String expected) {
            return new IllegalArgumentException(String.format(Locale.ROOT, "%s: %s for %s, expected %s", name, got, what, expected));
        }
    }
}
