package dev.gearbox.gguf;

import dev.gearbox.tensor.GGMLType;

import java.io.BufferedOutputStream;
import java.io.DataOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files: metadata in insertion order, then tensor infos, then the aligned tensor
 * data. Used by the test-model generator and the tokenizer asset script.
 */
public final class GGUFWriter {
    private final Map<String, GGUFValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private int version = 3;

    private record Entry(String name, GGMLType type, long[] shape, byte[] data) {}

    public GGUFWriter put(String key, GGUFValue value) {
        metadata.put(key, value);
        return this;
    }

    public GGUFWriter putString(String key, String v) { return put(key, GGUFValue.string(v)); }
    public GGUFWriter putU32(String key, long v) { return put(key, GGUFValue.u32(v)); }
    public GGUFWriter putF32(String key, double v) { return put(key, GGUFValue.f32(v)); }
    public GGUFWriter putBool(String key, boolean v) { return put(key, GGUFValue.bool(v)); }

    /** Writes an older header version (2 and 3 share one layout). */
    public GGUFWriter version(int version) {
        this.version = version;
        return this;
    }

    /**
     * Adds a tensor. {@code shape} is in GGML order (innermost first); {@code data} holds its bytes
     * in {@code type}'s layout.
     */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, byte[] data) {
        long count = 1;
        for (long d : shape) count *= d;
        if (type.byteSize(count) != data.length) {
            throw new IllegalArgumentException(name + ": " + type + " " + java.util.Arrays.toString(shape) + " needs "
                    + type.byteSize(count) + " bytes, got " + data.length);
        }
        tensors.add(new Entry(name, type, shape.clone(), data));
        return this;
    }

    public void write(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            write(os);
        }
    }

    public void write(OutputStream os) throws IOException {
        long alignment = GGUFFile.DEFAULT_ALIGNMENT;
        GGUFValue a = metadata.get("general.alignment");
        if (a != null && a.value() instanceof Long l) alignment = l;

        Out out = new Out(os);
        out.i32(GGUFFile.MAGIC);
        out.i32(version);
        out.i64(tensors.size());
        out.i64(metadata.size());
        for (var e : metadata.entrySet()) {
            out.string(e.getKey());
            out.i32(e.getValue().type().id());
            writeValue(out, e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Entry t : tensors) {
            out.string(t.name);
            out.i32(t.shape.length);
            for (long d : t.shape) out.i64(d);
            out.i32(t.type.id());
            out.i64(offset);
            offsets.add(offset);
            offset = align(offset + t.data.length, alignment);
        }
        out.pad(align(out.written, alignment) - out.written);
        for (Entry t : tensors) {
            out.bytes(t.data);
            out.pad(align(t.data.length, alignment) - t.data.length);
        }
        out.flush();
    }

    private static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    private static void writeValue(Out out, GGUFValue v) throws IOException {
        if (v.type() == GGUFValueType.ARRAY) {
            out.i32(v.elementType().id());
            out.i64(v.length());
            switch (v.value()) {
                case long[] arr -> { for (long x : arr) scalar(out, v.elementType(), x); }
                case double[] arr -> { for (double x : arr) scalar(out, v.elementType(), x); }
                case boolean[] arr -> { for (boolean x : arr) out.u8(x ? 1 : 0); }
                case String[] arr -> { for (String x : arr) out.string(x); }
                case GGUFValue[] arr -> { for (GGUFValue x : arr) writeValue(out, x); }
                default -> throw new IllegalArgumentException("bad array value " + v.value().getClass());
            }
        } else {
            scalar(out, v.type(), v.value());
        }
    }

    private static void scalar(Out out, GGUFValueType t, Object x) throws IOException {
        switch (t) {
            case UINT8, INT8 -> out.u8(((Number) x).intValue());
            case UINT16, INT16 -> out.i16(((Number) x).intValue());
            case UINT32, INT32 -> out.i32(((Number) x).intValue());
            case UINT64, INT64 -> out.i64(((Number) x).longValue());
            case FLOAT32 -> out.i32(Float.floatToRawIntBits(((Number) x).floatValue()));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits(((Number) x).doubleValue()));
            case BOOL -> out.u8(((Boolean) x) ? 1 : 0);
            case STRING -> out.string((String) x);
            case ARRAY -> throw new IllegalArgumentException("nested array given as scalar");
        }
    }

    /** Little-endian output that counts bytes written. */
    private static final class Out {
        final OutputStream os;
        final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Out(OutputStream os) { this.os = os; }

        void u8(int v) throws IOException { os.write(v); written++; }
        void i16(int v) throws IOException { buf.clear(); buf.putShort((short) v); os.write(buf.array(), 0, 2); written += 2; }
        void i32(int v) throws IOException { buf.clear(); buf.putInt(v); os.write(buf.array(), 0, 4); written += 4; }
        void i64(long v) throws IOException { buf.clear(); buf.putLong(v); os.write(buf.array(), 0, 8); written += 8; }
        void bytes(byte[] b) throws IOException { os.write(b); written += b.length; }
        void string(String s) throws IOException { byte[] b = s.getBytes(StandardCharsets.UTF_8); i64(b.length); bytes(b); }
        void pad(long n) throws IOException { for (long i = 0; i < n; i++) u8(0); }
        void flush() throws IOException { os.flush(); }
    }
}
