package dev.gearbox.svf;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An opened SVF sidecar ({@link SvfDecomposer}): the U, s, V of each adapted matrix of one base
 * model, checked against that model when opened. Factors stay in the read-only mapping and are
 * read into float64 per call.
 */
public final class SvfFactors implements AutoCloseable {
    /** Rows and columns of one adapted matrix of the base model (rows = outputs). */
    public record Shape(int rows, int cols) {
        public int rank() { return Math.min(rows, cols); }
    }

    private final Path path;
    private final GGUFFile file;
    private final String baseSha256;
    private final String tier;
    private final MatrixSelection matrices;
    private final Map<String, Shape> shapes;

    private SvfFactors(Path path, GGUFFile file, String baseSha256, String tier, MatrixSelection matrices, Map<String, Shape> shapes) {
        this.path = path;
        this.file = file;
        this.baseSha256 = baseSha256;
        this.tier = tier;
        this.matrices = matrices;
        this.shapes = shapes;
    }

    /**
     * Opens {@code path} as the sidecar of {@code modelFile}: the model's SHA-256 must be the one the
     * factors were computed from, and every factor must have the shape its matrix in the model
     * implies. Each failure is an {@link SvfException} naming the sidecar and what does not match.
     */
    public static SvfFactors open(Path path, Path modelFile) throws IOException {
        GGUFFile f = GGUFFile.open(path);
        try {
            String sha = f.getString(SvfDecomposer.KEY_BASE_SHA256, null);
            if (sha == null) throw new SvfException(path, "not an SVF sidecar: no " + SvfDecomposer.KEY_BASE_SHA256);
            String actual = Checksums.sha256(modelFile);
            if (!sha.equals(actual)) {
                throw new SvfException(path, "was computed from a different model: its " + SvfDecomposer.KEY_BASE_SHA256 + " is " + sha
                        + " but " + modelFile + " has SHA-256 " + actual);
            }
            String[] names = f.getStrings(SvfDecomposer.KEY_TENSORS);
            if (names == null) throw new SvfException(path, "no " + SvfDecomposer.KEY_TENSORS + " list");
            MatrixSelection sel;
            try {
                sel = MatrixSelection.parse(f.requireString(SvfDecomposer.KEY_MATRICES));
            } catch (IllegalArgumentException e) {
                throw new SvfException(path, SvfDecomposer.KEY_MATRICES + ": " + e.getMessage());
            }
            Map<String, Shape> shapes = new LinkedHashMap<>();
            try (GGUFFile model = GGUFFile.open(modelFile)) {
                for (String name : names) {
                    TensorInfo w = model.tensor(name);
                    if (w == null || w.shape().length != 2) {
                        throw new SvfException(path, "has factors of '" + name + "', which " + modelFile + (w == null ? " lacks" : " holds as a non-matrix"));
                    }
                    Shape s = new Shape(Math.toIntExact(w.dim(1)), Math.toIntExact(w.dim(0)));
                    expect(path, f, name + ".svf.u", new long[] {s.rank(), s.rows()});
                    expect(path, f, name + ".svf.s", new long[] {s.rank()});
                    expect(path, f, name + ".svf.v", new long[] {s.rank(), s.cols()});
                    shapes.put(name, s);
                }
            }
            return new SvfFactors(path, f, sha, f.getString(SvfDecomposer.KEY_TIER, ""), sel, shapes);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static void expect(Path path, GGUFFile f, String name, long[] shape) throws SvfException {
        TensorInfo t = f.tensor(name);
        if (t == null) throw new SvfException(path, "missing factor '" + name + "'");
        if (t.type() != GGMLType.F32) throw new SvfException(path, "factor '" + name + "' is " + t.type() + ", expected F32");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new SvfException(path, "factor '" + name + "' has shape " + Arrays.toString(t.shape()) + " but the model's matrix implies "
                    + Arrays.toString(shape));
        }
    }

    public Path path() { return path; }
    public String baseSha256() { return baseSha256; }
    public String tier() { return tier; }
    public MatrixSelection matrices() { return matrices; }

    /** The adapted tensors, in file order. */
    public List<String> tensorNames() { return List.copyOf(shapes.keySet()); }

    public Shape shape(String tensor) {
        Shape s = shapes.get(tensor);
        if (s == null) throw new IllegalArgumentException(path + ": no SVF factors for '" + tensor + "'");
        return s;
    }

    /** The stored factors of {@code tensor}, widened to float64. */
    public ThinSvd factors(String tensor) {
        Shape sh = shape(tensor);
        int r = sh.rank();
        DMatrixRMaj u = new DMatrixRMaj(sh.rows(), r);
        DMatrixRMaj v = new DMatrixRMaj(sh.cols(), r);
        double[] s = new double[r];
        read(tensor + ".svf.u", u.data);
        read(tensor + ".svf.v", v.data);
        read(tensor + ".svf.s", s);
        return new ThinSvd(u, s, v);
    }

    private void read(String name, double[] dst) {
        TensorInfo t = file.tensor(name);
        float[] tmp = new float[dst.length];
        Quantizer.dequantize(GGMLType.F32, file.data(t), tmp, 0, tmp.length);
        for (int i = 0; i < tmp.length; i++) dst[i] = tmp[i];
    }

    /**
     * σ⊙z rescaled so its sum is that of σ: SVF changes how the matrix's energy is spread over its
     * singular directions, not how much there is, so an expert cannot blow a layer up or shut it
     * off. The sum of σ⊙z must be positive (a negative one would flip the matrix's sign).
     */
    public static double[] scaledSingularValues(double[] s, float[] z) {
        if (z.length != s.length) throw new IllegalArgumentException("z has " + z.length + " values for " + s.length + " singular values");
        double sum = 0, sumZ = 0;
        for (int i = 0; i < s.length; i++) {
            if (!Float.isFinite(z[i])) throw new IllegalArgumentException("z[" + i + "] = " + z[i] + " is not finite");
            sum += s[i];
            sumZ += s[i] * z[i];
        }
        if (!(sumZ > 0)) throw new IllegalArgumentException("the sum of σ⊙z is " + sumZ + "; it must be positive to rescale to the sum of σ");
        double scale = sum / sumZ;
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) out[i] = s[i] * z[i] * scale;
        return out;
    }

    /** W' = U diag(σ⊙z) Vᵀ · (Σσ / Σ(σ⊙z)) of {@code tensor}, as a rows x cols float64 matrix. */
    public DMatrixRMaj reconstructDense(String tensor, float[] z) {
        ThinSvd f = factors(tensor);
        return rebuild(f.u(), scaledSingularValues(f.s(), z), f.v());
    }

    /** {@link #reconstructDense} as row-major floats, the layout of an F32 weight's data. */
    public float[] reconstruct(String tensor, float[] z) {
        DMatrixRMaj w = reconstructDense(tensor, z);
        float[] out = new float[w.getNumElements()];
        for (int i = 0; i < out.length; i++) out[i] = (float) w.data[i];
        return out;
    }

    /** U diag(d) Vᵀ over the columns of U and V that d has entries for. */
    static DMatrixRMaj rebuild(DMatrixRMaj u, double[] d, DMatrixRMaj v) {
        DMatrixRMaj ud = u.copy();
        for (int i = 0; i < ud.numRows; i++) {
            for (int k = 0; k < ud.numCols; k++) ud.data[i * ud.numCols + k] *= d[k];
        }
        DMatrixRMaj out = new DMatrixRMaj(u.numRows, v.numRows);
        CommonOps_DDRM.multTransB(ud, v, out);
        return out;
    }

    /** Checks that {@code expert} was made for this sidecar's base model and gives a z of the right length per matrix. */
    public void check(SvfExpert expert) throws SvfException {
        if (!expert.baseSha256().equals(baseSha256)) {
            throw new SvfException(expert.file() != null ? expert.file() : path, "expert '" + expert.task() + "' is for base model "
                    + expert.baseSha256() + ", but " + path + " is the sidecar of " + baseSha256);
        }
        for (var e : expert.z().entrySet()) {
            Shape s = shapes.get(e.getKey());
            Path at = expert.file() != null ? expert.file() : path;
            if (s == null) throw new SvfException(at, "adapts '" + e.getKey() + "', which " + path + " has no factors of");
            if (e.getValue().length != s.rank()) {
                throw new SvfException(at, "z of '" + e.getKey() + "' has " + e.getValue().length + " values, its matrix has " + s.rank() + " singular values");
            }
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
