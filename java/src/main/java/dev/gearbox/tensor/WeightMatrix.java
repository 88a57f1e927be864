package dev.gearbox.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows} outputs by {@code cols} inputs, stored as GGML lays it out: row
 * after row, each row {@code cols / blockSize} blocks of {@code type}. The bytes usually are a slice
 * of a memory-mapped GGUF file; they stay quantized, and the kernels read the blocks directly.
 */
public record WeightMatrix(GGMLType type, int rows, int cols, MemorySegment data) {

    public WeightMatrix {
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " row of " + cols + " values is not a multiple of the block size");
        }
        long need = (long) rows * type.byteSize(cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(type + " [" + rows + " x " + cols + "] needs " + need + " bytes, has " + data.byteSize());
        }
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }

    /** Bytes of the whole matrix. */
    public long byteSize() {
        return rows * rowBytes();
    }
}
