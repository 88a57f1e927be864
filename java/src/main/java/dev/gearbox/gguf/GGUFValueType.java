package dev.gearbox.gguf;

/** The metadata value types of GGUF, with their on-disk ids. */
public enum GGUFValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4),
    FLOAT32(6, 4), BOOL(7, 1), STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int size;

    GGUFValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    public int id() { return id; }

    /** Fixed size in bytes, or -1 for strings and arrays. */
    public int size() { return size; }

    public static GGUFValueType byId(int id) {
        for (GGUFValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
