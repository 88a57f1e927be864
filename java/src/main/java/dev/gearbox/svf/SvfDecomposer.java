package dev.gearbox.svf;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes a model's SVF sidecar: for each selected matrix W (dequantized to float64) its thin SVD
 * as {@code <tensor>.svf.u} [rows x r], {@code .svf.s} [r] and {@code .svf.v} [cols x r], with the
 * model's SHA-256 so the factors are never used with other weights.
 *
 * <p>The factors are stored as F32: the SVD is computed in float64, but float32 factors rebuild W
 * to within 6e-8 of its largest entry (measured on the tiny preset's Q8_0 matrices), far below the
 * error of the quantized weights they came from (Q8_0 rounding is about 4e-3 of the largest entry),
 * at half the size of F64. They are not quantized, because U's and V's columns are dense unit
 * vectors whose errors would add up over all r components of every entry.
 */
public final class SvfDecomposer {
    public static final String KEY_BASE_SHA256 = "svf.base_sha256";
    public static final String KEY_MATRICES = "svf.matrices";
    public static final String KEY_TIER = "svf.tier";
    public static final String KEY_TENSORS = "svf.tensors";
    public static final String KEY_BASE_FILE = "svf.base_file";

    private SvfDecomposer() {}

    /** Where the sidecar of {@code model} goes unless told otherwise: {@code <model>.svf.gguf} beside it. */
    public static Path defaultSidecar(Path model) {
        return model.resolveSibling(model.getFileName() + ".svf.gguf");
    }

    /**
     * Decomposes the {@code selection} matrices of {@code model} and writes them to {@code out}.
     * One matrix's SVD is held at a time: each is computed when the writer reaches its U, so a
     * large model's factors never sit in memory together. {@code progress} hears each tensor name.
     */
    public static void write(Path model, String tier, MatrixSelection selection, Path out, Consumer<String> progress) throws IOException {
        if (!Files.isRegularFile(model)) throw new NoSuchFileException(model.toString(), null, "model file not found");
        String sha = Checksums.sha256(model);
        try (GGUFFile f = GGUFFile.open(model)) {
            List<TensorInfo> tensors = selection.tensors(f);
            GGUFWriter w = new GGUFWriter();
            w.putString("general.type", "svf-factors");
            w.putString(KEY_BASE_SHA256, sha);
            w.putString(KEY_BASE_FILE, model.getFileName().toString());
            w.putString(KEY_MATRICES, selection.label());
            w.putString(KEY_TIER, tier);
            w.put(KEY_TENSORS, GGUFValue.strings(tensors.stream().map(TensorInfo::name).toArray(String[]::new)));
            for (TensorInfo t : tensors) {
                long cols = t.dim(0), rows = t.dim(1), r = Math.min(rows, cols);
                ThinSvd[] held = new ThinSvd[1];
                w.addTensor(t.name() + ".svf.u", GGMLType.F32, new long[] {r, rows}, os -> {
                    progress.accept(t.name());
                    held[0] = ThinSvd.of(Dense.matrix(f, t));
                    writeF32(os, held[0].u().data, held[0].u().getNumElements());
                });
                w.addTensor(t.name() + ".svf.s", GGMLType.F32, new long[] {r}, os -> writeF32(os, held[0].s(), held[0].rank()));
                w.addTensor(t.name() + ".svf.v", GGMLType.F32, new long[] {r, cols}, os -> {
                    writeF32(os, held[0].v().data, held[0].v().getNumElements());
                    held[0] = null;
                });
            }
            w.write(out);
        }
    }

    /** Little-endian float32 of the first {@code count} values, in order (EJML matrices are row-major, as the tensor layout is). */
    static void writeF32(OutputStream os, double[] values, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) b.putFloat((float) values[i]);
        os.write(b.array());
    }

}
