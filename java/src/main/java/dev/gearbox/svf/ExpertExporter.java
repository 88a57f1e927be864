package dev.gearbox.svf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java end of {@code scripts/train-experts.sh}: turns the z vectors that
 * {@code scripts/train-experts.py} trained (JSON, format {@code gearbox-svf-z-v1}) into an
 * {@link SvfExpert} file for the exact base model, and writes dense adapted copies of a model
 * (every adapted matrix replaced by W', F32) for measuring an expert with the ordinary forward pass
 * until the engine applies experts itself.
 *
 * <p>Usage: {@code java -cp gearbox.jar dev.gearbox.svf.ExpertExporter import Z.json MODEL.gguf OUT.gguf}
 * and {@code ... ExpertExporter dense MODEL.gguf SIDECAR.gguf EXPERT.gguf OUT.gguf}.
 */
public final class ExpertExporter {
    public static final String FORMAT = "gearbox-svf-z-v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ExpertExporter() {}

    /**
     * The expert that {@code zJson} describes, checked against {@code model}: the JSON's
     * {@code base_sha256} (what the trainer decomposed) must be the model file's, every tensor must
     * be a matrix of the model, the tensors must be exactly those of the JSON's matrix selection,
     * and each z must have one value per singular value. Each failure names the JSON file.
     */
    public static SvfExpert fromJson(Path zJson, Path model) throws IOException {
        JsonNode j = JSON.readTree(zJson.toFile());
        if (!FORMAT.equals(j.path("format").asText())) throw new SvfException(zJson, "not a " + FORMAT + " file (format '" + j.path("format").asText() + "')");
        String sha = Checksums.sha256(model);
        String trained = j.path("base_sha256").asText();
        if (!sha.equals(trained)) {
            throw new SvfException(zJson, "z were trained on base model " + trained + ", but " + model + " has SHA-256 " + sha);
        }
        MatrixSelection sel;
        try {
            sel = MatrixSelection.parse(j.path("matrices").asText());
        } catch (IllegalArgumentException e) {
            throw new SvfException(zJson, "matrices: " + e.getMessage());
        }
        JsonNode zs = j.path("z");
        if (!zs.isObject()) throw new SvfException(zJson, "no 'z' object");
        Map<String, float[]> z = new LinkedHashMap<>();
        try (GGUFFile m = GGUFFile.open(model)) {
            List<String> expected = new ArrayList<>();
            for (TensorInfo t : sel.tensors(m)) expected.add(t.name());
            List<String> got = new ArrayList<>();
            zs.fieldNames().forEachRemaining(got::add);
            if (!got.equals(expected)) {
                throw new SvfException(zJson, "adapts " + got + ", but matrices '" + sel.label() + "' of " + model + " are " + expected);
            }
            for (String name : got) {
                TensorInfo t = m.tensor(name);
                int rank = Math.toIntExact(Math.min(t.dim(0), t.dim(1)));
                JsonNode arr = zs.get(name);
                if (!arr.isArray() || arr.size() != rank) {
                    throw new SvfException(zJson, "z of '" + name + "' has " + (arr.isArray() ? arr.size() : 0) + " values, its matrix has " + rank + " singular values");
                }
                float[] v = new float[rank];
                for (int i = 0; i < rank; i++) {
                    if (!arr.get(i).isNumber()) throw new SvfException(zJson, "z of '" + name + "'[" + i + "] is not a number");
                    v[i] = (float) arr.get(i).asDouble();
                }
                z.put(name, v);
            }
        }
        try {
            return new SvfExpert(j.path("tier").asText(), sha, j.path("task").asText(), sel.label(), j.path("training").asText(""), z, null);
        } catch (IllegalArgumentException e) {
            throw new SvfException(zJson, e.getMessage());
        }
    }

    /**
     * A copy of {@code model} with each matrix that {@code expert} adapts replaced by W' (rebuilt by
     * {@link SvfFactors#reconstruct} from {@code factors}, stored F32); every other tensor and all
     * metadata are copied as they are. For measuring an expert; not a served format.
     */
    public static void writeDense(Path model, SvfFactors factors, SvfExpert expert, Path out) throws IOException {
        factors.check(expert);
        try (GGUFFile f = GGUFFile.open(model)) {
            if (!Checksums.sha256(model).equals(expert.baseSha256())) {
                throw new SvfException(expert.file() != null ? expert.file() : factors.path(), "is for base model " + expert.baseSha256() + ", not " + model);
            }
            GGUFWriter w = new GGUFWriter();
            for (var e : f.metadata().entrySet()) w.put(e.getKey(), e.getValue());
            w.putString("svf.dense_expert", expert.tier() + "-" + expert.task());
            for (TensorInfo t : f.tensorList()) {
                float[] z = expert.z().get(t.name());
                if (z == null) {
                    w.addTensor(t.name(), t.type(), t.shape(), f.data(t));
                } else {
                    w.addTensor(t.name(), GGMLType.F32, t.shape(), Quantizer.quantize(GGMLType.F32, factors.reconstruct(t.name(), z)));
                }
            }
            atomicWrite(w, out);
        }
    }

    static void atomicWrite(GGUFWriter w, Path out) throws IOException {
        Path abs = out.toAbsolutePath();
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            w.write(tmp);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void main(String[] args) {
        try {
            if (args.length == 4 && args[0].equals("import")) {
                SvfExpert e = fromJson(Path.of(args[1]), Path.of(args[2]));
                Path out = Path.of(args[3]);
                Path abs = out.toAbsolutePath();
                if (abs.getParent() != null) Files.createDirectories(abs.getParent());
                e.write(out);
                SvfExpert.read(out, e.baseSha256()); // what was written reads back for this model
                System.out.println("expert " + e.tier() + "-" + e.task() + " (" + e.z().size() + " matrices) -> " + out + " (" + Files.size(out) + " bytes)");
            } else if (args.length == 5 && args[0].equals("dense")) {
                Path model = Path.of(args[1]);
                try (SvfFactors f = SvfFactors.open(Path.of(args[2]), model)) {
                    SvfExpert e = SvfExpert.read(Path.of(args[3]), f.baseSha256());
                    writeDense(model, f, e, Path.of(args[4]));
                    System.out.println("dense " + e.tier() + "-" + e.task() + " -> " + args[4]);
                }
            } else {
                System.err.println("usage: ExpertExporter import Z.json MODEL.gguf OUT.gguf\n"
                        + "       ExpertExporter dense MODEL.gguf SIDECAR.gguf EXPERT.gguf OUT.gguf");
                System.exit(2);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("expert export failed: " + e.getMessage());
            System.exit(1);
        }
    }
}
