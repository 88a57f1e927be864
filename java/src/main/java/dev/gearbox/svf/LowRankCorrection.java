package dev.gearbox.svf;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * An expert's change to one matrix as a rank-r correction: ΔW = W' − W = U diag(δ) Vᵀ with
 * δ = σ⊙z·scale − σ, kept to the r components with the largest |δ|, so ΔW_r = U_r diag(δ_r) V_rᵀ
 * could be added to the unchanged base weight instead of rebuilding it. {@code relativeError} is
 * ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F, computed against the exact ΔW built from dense matrices (0 when the
 * expert changes nothing).
 *
 * @param components the singular-value indices kept, largest |δ| first
 * @param delta      δ at those indices
 */
public record LowRankCorrection(String tensor, int[] components, double[] delta, DMatrixRMaj correction, double relativeError) {

    public int rank() { return components.length; }

    public static LowRankCorrection of(SvfFactors factors, SvfExpert expert, String tensor, int rank) throws SvfException {
        factors.check(expert);
        float[] z = expert.z().get(tensor);
        if (z == null) throw new IllegalArgumentException("expert '" + expert.task() + "' does not adapt '" + tensor + "'");
        return of(factors, tensor, z, rank);
    }

    public static LowRankCorrection of(SvfFactors factors, String tensor, float[] z, int rank) {
        ThinSvd f = factors.factors(tensor);
        if (rank < 0 || rank > f.rank()) throw new IllegalArgumentException("rank " + rank + " outside [0, " + f.rank() + "]");
        double[] scaled = SvfFactors.scaledSingularValues(f.s(), z);
        double[] d = delta(f.s(), z);
        int[] keep = largest(d, rank);

        DMatrixRMaj ur = new DMatrixRMaj(f.u().numRows, rank);
        DMatrixRMaj vr = new DMatrixRMaj(f.v().numRows, rank);
        double[] dr = new double[rank];
        for (int c = 0; c < rank; c++) {
            int k = keep[c];
            dr[c] = d[k];
            for (int i = 0; i < ur.numRows; i++) ur.set(i, c, f.u().get(i, k));
            for (int j = 0; j < vr.numRows; j++) vr.set(j, c, f.v().get(j, k));
        }
        DMatrixRMaj approx = SvfFactors.rebuild(ur, dr, vr);

        // The exact ΔW from the two dense matrices, not from δ: the error is then measured, not assumed from orthogonality.
        DMatrixRMaj exact = new DMatrixRMaj(f.u().numRows, f.v().numRows);
        CommonOps_DDRM.subtract(SvfFactors.rebuild(f.u(), scaled, f.v()), SvfFactors.rebuild(f.u(), f.s(), f.v()), exact);
        double norm = NormOps_DDRM.normF(exact);
        DMatrixRMaj diff = new DMatrixRMaj(exact.numRows, exact.numCols);
        CommonOps_DDRM.subtract(exact, approx, diff);
        double err = norm == 0 ? 0 : NormOps_DDRM.normF(diff) / norm;
        return new LowRankCorrection(tensor, keep, dr, approx, err);
    }

    /** δ = σ⊙z·scale − σ: each singular value's change under the expert. */
    static double[] delta(double[] s, float[] z) {
        double[] scaled = SvfFactors.scaledSingularValues(s, z);
        double[] d = new double[s.length];
        for (int i = 0; i < d.length; i++) d[i] = scaled[i] - s[i];
        return d;
    }

    /** The indices of the {@code rank} largest |d|, largest first (ties: the lower index). */
    static int[] largest(double[] d, int rank) {
        return IntStream.range(0, d.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -Math.abs(d[i])).thenComparingInt(i -> i))
                .limit(rank).mapToInt(Integer::intValue).toArray();
    }

    /**
     * ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F from δ alone: U and V have orthonormal columns, so the error is the
     * norm of the dropped δ over the norm of all of them (what {@link #relativeError} measures
     * densely; LowRankCorrectionTest checks they agree). Costs O(r) instead of three dense rebuilds.
     */
    static double predictedError(double[] d, int[] keep) {
        double all = 0, kept = 0;
        for (double x : d) all += x * x;
        for (int k : keep) kept += d[k] * d[k];
        return all == 0 ? 0 : Math.sqrt(Math.max(0, all - kept) / all);
    }

    @Override
    public String toString() {
        return tensor + " rank " + rank() + " (components " + Arrays.toString(Arrays.copyOf(components, Math.min(8, components.length)))
                + (components.length > 8 ? "..." : "") + "): relative error " + relativeError;
    }
}
