package dev.gearbox.model;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.function.Function;

/** Test helper: copies a GGUF file through the writer, letting a test drop or change entries. */
final class GGUFRewriter {
    private GGUFRewriter() {}

    /** A tensor as it will be written: null from the mapper drops it. */
    record Tensor(String name, GGMLType type, long[] shape, byte[] data) {}

    static void rewrite(Path src, Path dst, BiFunction<String, GGUFValue, GGUFValue> metadata, Function<Tensor, Tensor> tensors) throws IOException {
        try (GGUFFile f = GGUFFile.open(src)) {
            GGUFWriter w = new GGUFWriter();
            for (var e : f.metadata().entrySet()) {
                GGUFValue v = metadata.apply(e.getKey(), e.getValue());
                if (v != null) w.put(e.getKey(), v);
            }
            for (TensorInfo t : f.tensorList()) {
                Tensor out = tensors.apply(new Tensor(t.name(), t.type(), t.shape(), f.data(t).toArray(ValueLayout.JAVA_BYTE)));
                if (out != null) w.addTensor(out.name(), out.type(), out.shape(), out.data());
            }
            w.write(dst);
        }
    }
}
