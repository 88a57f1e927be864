package dev.gearbox.svf;

import dev.gearbox.model.Adaptation;
import dev.gearbox.model.Model;
import org.ejml.data.DMatrixRMaj;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns an SVF expert into an {@link Adaptation} of a loaded model, in one of two forms:
 * <ul>
 *   <li>{@link Form#EXACT}: W' = U diag(σ⊙z·scale) Vᵀ rebuilt per matrix and uploaded as F32 in
 *       W's place (no approximation; costs 4 bytes per weight on the device and, in a batch that
 *       mixes experts, a second product of that matrix for the expert's rows);</li>
 *   <li>{@link Form#LOW_RANK}: the r components with the largest |δ| of ΔW = W' − W, added to the
 *       unchanged base product as B (A x) with A = diag(δ_r) V_rᵀ, B = U_r (r (rows + cols) F32
 *       values per matrix; the error is {@link Built#relativeErrors}).</li>
 * </ul>
 */
public final class SvfAdapter {
    private SvfAdapter() {}

    public enum Form {
        EXACT, LOW_RANK;

        public String label() { return name().toLowerCase(Locale.ROOT); }

        public static Form parse(String s) {
            for (Form f : values()) if (f.label().equals(s)) return f;
            throw new IllegalArgumentException("unknown expert form '" + s + "' (forms: exact, low_rank)");
        }
    }

    /**
     * @param relativeErrors per adapted tensor, ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F of the low-rank form (0 for the exact one), file order
     */
    public record Built(Adaptation adaptation, Form form, int rank, Map<String, Double> relativeErrors) {
        /** The largest of {@link #relativeErrors}: how far the served expert is from the trained one, at worst. */
        public double maxRelativeError() {
            return relativeErrors.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }

        public double meanRelativeError() {
            return relativeErrors.values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
        }
    }

    /**
     * Builds {@code expert} (checked against {@code factors}, which must be the decomposition of
     * {@code model}'s file) as {@code name}. {@code rank} is used by the low-rank form only and is
     * capped at each matrix's own rank, so a large one gives every component (the exact ΔW).
     */
    public static Built build(Model model, SvfFactors factors, SvfExpert expert, Form form, int rank, String name) throws SvfException {
        factors.check(expert);
        if (form == Form.LOW_RANK && rank < 1) throw new IllegalArgumentException("expert rank must be at least 1, got " + rank);
        Adaptation.Builder b = new Adaptation.Builder(model, name);
        Map<String, Double> errors = new LinkedHashMap<>();
        for (var e : expert.z().entrySet()) {
            String tensor = e.getKey();
            float[] z = e.getValue();
            if (form == Form.EXACT) {
                b.exact(tensor, factors.reconstruct(tensor, z));
                errors.put(tensor, 0.0);
                continue;
            }
            ThinSvd f = factors.factors(tensor);
            double[] d = LowRankCorrection.delta(f.s(), z);
            int[] keep = LowRankCorrection.largest(d, Math.min(rank, f.rank()));
            b.lowRank(tensor, keep.length, factorA(f.v(), d, keep), factorB(f.u(), keep));
            errors.put(tensor, LowRankCorrection.predictedError(d, keep));
        }
        return new Built(b.build(), form, form == Form.EXACT ? 0 : rank, errors);
    }

    /** A = diag(δ_r) V_rᵀ, r x cols row-major: row c is δ of component keep[c] times that column of V. */
    static float[] factorA(DMatrixRMaj v, double[] d, int[] keep) {
        int cols = v.numRows, r = keep.length;
        float[] a = new float[r * cols];
        for (int c = 0; c < r; c++) {
            for (int j = 0; j < cols; j++) a[c * cols + j] = (float) (d[keep[c]] * v.get(j, keep[c]));
        }
        return a;
    }

    /** B = U_r, rows x r row-major: column c is column keep[c] of U. */
    static float[] factorB(DMatrixRMaj u, int[] keep) {
        int rows = u.numRows, r = keep.length;
        float[] b = new float[rows * r];
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < r; c++) b[i * r + c] = (float) u.get(i, keep[c]);
        }
        return b;
    }
}
