package dev.gearbox.gguf;

import dev.gearbox.tensor.GGMLType;

import java.util.Arrays;

/**
 * A tensor's entry in the GGUF header. {@code shape[0]} is the innermost (contiguous) dimension,
 * as GGML orders it: a weight matrix with {@code rows} outputs of {@code cols} inputs has
 * shape {@code [cols, rows]}. {@code offset} is relative to the start of the data section.
 */
public record TensorInfo(String name, GGMLType type, long[] shape, long offset) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    /** Size of dimension {@code i}, 1 beyond the tensor's rank. */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
