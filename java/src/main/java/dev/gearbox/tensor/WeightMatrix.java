package dev.gearbox.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows} outputs by {@code cols} inputs, stored as GGML lays it out: row
 * after row, each row {@code cols / blockSize} blocks of {@code type}. The bytes usually are a slice
 * of a memory-mapped GGUF file; they stay quantized, and the kernels read the blocks directly.
 *
 * <p>A class rather than a record only because the native Q4_0 kernels attach a repacked copy of
 * the bytes on first use ({@link NativeCpu}); everything else reads {@link #data()}.
 */
public final class WeightMatrix {
    private final GGMLType type;
    private final int rows, cols;
    private final MemorySegment data;
    /** The native kernels' repacked copy, built on the first native product; null until then. */
    volatile MemorySegment packed;

    public WeightMatrix(GGMLType type, int rows, int cols, MemorySegment data) {
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " row of " + cols + " values is not a multiple of the block size");
        }
        long need = (long) rows * type.byteSize(cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(type + " [" + rows + " x " + cols + "] needs " + need + " bytes, has " + data.byteSize());
        }
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    public GGMLType type() { return type; }

    public int rows() { return rows; }

    public int cols() { return cols; }

    public MemorySegment data() { return data; }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }

    /** Bytes of the whole matrix. */
    public long byteSize() {
        return rows * rowBytes();
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + type + " " + rows + "x" + cols + "]";
    }
}
