package dev.gearbox.tensor;

/**
 * GGML tensor element types, with the ids GGUF files use. Block-quantized types store
 * {@code blockSize} values in {@code typeSize} bytes; plain types have a block of one.
 * {@link #computable()} says whether Gearbox has kernels for the type.
 */
public enum GGMLType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, false),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, true),
    Q3_K(11, 256, 110, true),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true);

    private final int id;
    private final int blockSize;
    private final int typeSize;
    private final boolean computable;

    GGMLType(int id, int blockSize, int typeSize, boolean computable) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.computable = computable;
    }

    public int id() { return id; }

    /** Values per block. */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int typeSize() { return typeSize; }

    /** True when Gearbox's kernels can compute on this type. */
    public boolean computable() { return computable; }

    public boolean quantized() { return blockSize > 1; }

    /** Bytes taken by {@code count} values; count must be a multiple of the block size. */
    public long byteSize(long count) {
        if (count % blockSize != 0) {
            throw new IllegalArgumentException(name() + ": " + count + " values is not a multiple of the block size " + blockSize);
        }
        return count / blockSize * typeSize;
    }

    private static final GGMLType[] BY_ID = new GGMLType[64];
    static {
        for (GGMLType t : values()) BY_ID[t.id] = t;
    }

    /** The type with this GGUF id, or null when the id is unknown. */
    public static GGMLType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
