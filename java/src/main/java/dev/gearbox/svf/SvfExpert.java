package dev.gearbox.svf;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One SVF expert: a z vector (one value per singular value) for each adapted matrix of one base
 * model, with what it is for. Stored as a small GGUF, {@code experts/<tier>-<task>.gguf}: the z
 * of matrix {@code T} is the F32 tensor {@code T.svf.z}, the rest is metadata. {@code training}
 * is free text (how the z were obtained); {@code file} is where it was read from, null when built
 * in memory.
 */
public record SvfExpert(String tier, String baseSha256, String task, String matrices, String training,
                        Map<String, float[]> z, Path file) {
    public static final String KEY_TASK = "svf.expert.task";
    public static final String KEY_TRAINING = "svf.expert.training";

    // Task and tier names go into file names (experts/<tier>-<task>.gguf) and ladder keys.
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    public SvfExpert {
        if (tier == null || !NAME.matcher(tier).matches()) throw new IllegalArgumentException("tier name '" + tier + "' must be letters, digits, '.', '_' or '-'");
        if (task == null || !NAME.matcher(task).matches()) throw new IllegalArgumentException("task name '" + task + "' must be letters, digits, '.', '_' or '-'");
        if (baseSha256 == null || !baseSha256.matches("[0-9a-f]{64}")) throw new IllegalArgumentException("base model SHA-256 must be 64 lower-case hex digits, got '" + baseSha256 + "'");
        if (z.isEmpty()) throw new IllegalArgumentException("an expert adapts at least one matrix");
        matrices = matrices == null ? "" : matrices;
        training = training == null ? "" : training;
        Map<String, float[]> copy = new LinkedHashMap<>();
        z.forEach((k, v) -> copy.put(k, v.clone()));
        z = Collections.unmodifiableMap(copy);
    }

    /** Where an expert for {@code tier} and {@code task} goes under {@code dir}: {@code dir/experts/<tier>-<task>.gguf}. */
    public static Path defaultPath(Path dir, String tier, String task) {
        return dir.resolve("experts").resolve(tier + "-" + task + ".gguf");
    }

    /** z all ones for every matrix of {@code factors}: the base model unchanged. */
    public static SvfExpert identity(SvfFactors factors, String tier, String task, String training) {
        Map<String, float[]> z = new LinkedHashMap<>();
        for (String t : factors.tensorNames()) {
            float[] ones = new float[factors.shape(t).rank()];
            java.util.Arrays.fill(ones, 1f);
            z.put(t, ones);
        }
        return new SvfExpert(tier, factors.baseSha256(), task, factors.matrices().label(), training, z, null);
    }

    public void write(Path path) throws IOException {
        GGUFWriter w = new GGUFWriter();
        w.putString("general.type", "svf-expert");
        w.putString(SvfDecomposer.KEY_TIER, tier);
        w.putString(SvfDecomposer.KEY_BASE_SHA256, baseSha256);
        w.putString(KEY_TASK, task);
        w.putString(SvfDecomposer.KEY_MATRICES, matrices);
        w.putString(KEY_TRAINING, training);
        w.put(SvfDecomposer.KEY_TENSORS, GGUFValue.strings(z.keySet().toArray(String[]::new)));
        for (var e : z.entrySet()) {
            w.addTensor(e.getKey() + ".svf.z", GGMLType.F32, new long[] {e.getValue().length}, Quantizer.quantize(GGMLType.F32, e.getValue()));
        }
        w.write(path);
    }

    /**
     * Reads an expert made for the model whose SHA-256 is {@code expectedBaseSha256}; one made for
     * any other model is an {@link SvfException} naming the file and both checksums, since its z
     * index singular directions that model does not have.
     */
    public static SvfExpert read(Path path, String expectedBaseSha256) throws IOException {
        try (GGUFFile f = GGUFFile.open(path)) {
            String sha = f.getString(SvfDecomposer.KEY_BASE_SHA256, null);
            if (sha == null || !f.has(KEY_TASK)) throw new SvfException(path, "not an SVF expert file (no " + SvfDecomposer.KEY_BASE_SHA256 + " or " + KEY_TASK + ")");
            if (!sha.equals(expectedBaseSha256)) {
                throw new SvfException(path, "expert was made for base model " + sha + ", not for this model (SHA-256 " + expectedBaseSha256 + ")");
            }
            String[] names = f.getStrings(SvfDecomposer.KEY_TENSORS);
            if (names == null) throw new SvfException(path, "no " + SvfDecomposer.KEY_TENSORS + " list");
            Map<String, float[]> z = new LinkedHashMap<>();
            for (String n : names) {
                TensorInfo t = f.tensor(n + ".svf.z");
                if (t == null) throw new SvfException(path, "missing z of '" + n + "' (" + n + ".svf.z)");
                if (t.type() != GGMLType.F32 || t.shape().length != 1) throw new SvfException(path, n + ".svf.z must be a 1-D F32 tensor, is " + t);
                float[] v = new float[Math.toIntExact(t.elementCount())];
                Quantizer.dequantize(GGMLType.F32, f.data(t), v, 0, v.length);
                z.put(n, v);
            }
            try {
                return new SvfExpert(f.requireString(SvfDecomposer.KEY_TIER), sha, f.requireString(KEY_TASK),
                        f.getString(SvfDecomposer.KEY_MATRICES, ""), f.getString(KEY_TRAINING, ""), z, path);
            } catch (IllegalArgumentException e) {
                throw new SvfException(path, e.getMessage());
            }
        }
    }
}
