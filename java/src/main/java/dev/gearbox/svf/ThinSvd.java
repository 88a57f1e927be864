package dev.gearbox.svf;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The thin SVD W = U diag(s) Vᵀ of a rows x cols matrix, r = min(rows, cols): U is rows x r, V is
 * cols x r (both with orthonormal columns), s holds the r singular values, largest first. SVF's
 * z vectors index singular values in this order, so the order is part of the file format.
 */
public record ThinSvd(DMatrixRMaj u, double[] s, DMatrixRMaj v) {

    public int rank() { return s.length; }

    public static ThinSvd of(DMatrixRMaj w) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(w.numRows, w.numCols, true, true, true);
        DMatrixRMaj a = svd.inputModified() ? w.copy() : w;
        if (!svd.decompose(a)) throw new IllegalStateException("SVD did not converge on a " + w.numRows + "x" + w.numCols + " matrix");
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj sv = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        // EJML returns the singular values unordered; sort them (and U's, V's columns) largest first.
        SingularOps_DDRM.descendingOrder(u, false, sv, v, false);
        int r = Math.min(w.numRows, w.numCols);
        double[] s = new double[r];
        for (int i = 0; i < r; i++) s[i] = sv.get(i, i);
        return new ThinSvd(u, s, v);
    }
}
