package dev.gearbox.svf;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.Quantizer;
import org.ejml.data.DMatrixRMaj;

/** A weight matrix of a model file dequantized into a dense float64 matrix (rows = outputs). */
public final class Dense {
    private Dense() {}

    /**
     * {@code t} as rows x cols doubles. GGUF stores a matrix of {@code rows} outputs over {@code cols}
     * inputs with shape {@code [cols, rows]}, row after row, so one dequantize of the whole tensor
     * gives the row-major layout EJML uses.
     */
    public static DMatrixRMaj matrix(GGUFFile f, TensorInfo t) {
        int cols = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.dim(1));
        float[] v = new float[Math.multiplyExact(rows, cols)];
        Quantizer.dequantize(t.type(), f.data(t), v, 0, v.length);
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < v.length; i++) m.data[i] = v[i];
        return m;
    }
}
