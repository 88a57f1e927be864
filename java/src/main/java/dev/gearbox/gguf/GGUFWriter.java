package dev.gearbox.gguf;

import dev.gearbox.tensor.GGMLType;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes GGUF v3 (or v2) files: metadata in insertion order, then tensor infos, then the aligned
 * tensor data. Tensor data can be given as bytes, as a {@link MemorySegment} (e.g. a mapping, for
 * tensors over 2 GB) or as a {@link TensorData} callback that streams the bytes only when the file
 * is written, so a large model never has to sit in memory at once.
 */
public final class GGUFWriter {
    private final Map<String, GGUFValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int version = 3;

    /** Produces a tensor's bytes at write time; must write exactly the tensor's byte size. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Entry(String name, GGMLType type, long[] shape, long bytes, TensorData data) {}

    public GGUFWriter put(String key, GGUFValue value) {
        if (key == null || value == null) throw new IllegalArgumentException("metadata key and value must not be null");
        check(key, value, 0);
        metadata.put(key, value);
        return this;
    }

    public GGUFWriter putString(String key, String v) { return put(key, GGUFValue.string(v)); }
    public GGUFWriter putU32(String key, long v) { return put(key, GGUFValue.u32(v)); }
    public GGUFWriter putF32(String key, double v) { return put(key, GGUFValue.f32(v)); }
    public GGUFWriter putBool(String key, boolean v) { return put(key, GGUFValue.bool(v)); }

    /** Writes an older header version (2 and 3 share one layout). */
    public GGUFWriter version(int version) {
        if (version != 2 && version != 3) throw new IllegalArgumentException("GGUF version must be 2 or 3, got " + version);
        this.version = version;
        return this;
    }

    /**
     * Adds a tensor. {@code shape} is in GGML order (innermost first); {@code data} holds its bytes
     * in {@code type}'s layout.
     */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, byte[] data) {
        long bytes = checkTensor(name, type, shape);
        if (bytes != data.length) throw sizeError(name, type, shape, bytes, data.length);
        byte[] copy = data; // callers hand over the array; no defensive copy of what may be hundreds of MB
        return add(name, type, shape, bytes, out -> out.write(copy));
    }

    /** Adds a tensor whose bytes are read from {@code data} (any size, heap or native) when the file is written. */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, MemorySegment data) {
        long bytes = checkTensor(name, type, shape);
        if (bytes != data.byteSize()) throw sizeError(name, type, shape, bytes, data.byteSize());
        return add(name, type, shape, bytes, out -> copy(data, out));
    }

    /** Adds a tensor whose bytes {@code data} streams when the file is written. */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, TensorData data) {
        return add(name, type, shape, checkTensor(name, type, shape), data);
    }

    private GGUFWriter add(String name, GGMLType type, long[] shape, long bytes, TensorData data) {
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        tensors.add(new Entry(name, type, shape.clone(), bytes, data));
        return this;
    }

    private static long checkTensor(String name, GGMLType type, long[] shape) {
        if (name == null || type == null || shape == null) throw new IllegalArgumentException("tensor name, type and shape must not be null");
        if (shape.length < 1 || shape.length > GGUFFile.MAX_DIMS) {
            throw new IllegalArgumentException(name + ": a tensor has 1.." + GGUFFile.MAX_DIMS + " dimensions, got " + shape.length);
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            count = Math.multiplyExact(count, d);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": row length " + shape[0] + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        return type.byteSize(count);
    }

    private static IllegalArgumentException sizeError(String name, GGMLType type, long[] shape, long need, long got) {
        return new IllegalArgumentException(name + ": " + type + " " + Arrays.toString(shape) + " needs " + need + " bytes, got " + got);
    }

    private static void copy(MemorySegment src, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, src.byteSize()))];
        for (long pos = 0; pos < src.byteSize(); pos += buf.length) {
            int n = (int) Math.min(buf.length, src.byteSize() - pos);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, pos, buf, 0, n);
            out.write(buf, 0, n);
        }
    }

    public void write(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            write(os);
        }
    }

    public void write(OutputStream os) throws IOException {
        long alignment = alignment();
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
        for (Entry t : tensors) {
            out.string(t.name);
            out.i32(t.shape.length);
            for (long d : t.shape) out.i64(d);
            out.i32(t.type.id());
            out.i64(offset);
            offset = align(offset + t.bytes, alignment);
        }
        out.pad(align(out.written, alignment) - out.written);
        for (Entry t : tensors) {
            long before = out.written;
            t.data.writeTo(out.stream);
            long got = out.written - before;
            if (got != t.bytes) {
                throw new IllegalStateException("tensor '" + t.name + "': its data source wrote " + got + " bytes, expected " + t.bytes);
            }
            out.pad(align(t.bytes, alignment) - t.bytes);
        }
        out.flush();
    }

    private long alignment() {
        GGUFValue a = metadata.get("general.alignment");
        if (a == null) return GGUFFile.DEFAULT_ALIGNMENT;
        if (a.value() instanceof Long l && l > 0 && (l & (l - 1)) == 0 && l <= (1 << 20)) return l;
        throw new IllegalArgumentException("general.alignment must be a power of two up to 2^20, got " + a);
    }

    private static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    /** Rejects values the reader would not give back unchanged: wrong Java type, out-of-range integers. */
    private static void check(String key, GGUFValue v, int depth) {
        if (v.type() == GGUFValueType.ARRAY) {
            if (depth >= GGUFFile.MAX_NESTING) throw new IllegalArgumentException(key + ": arrays nested too deeply");
            GGUFValueType et = v.elementType();
            if (et == null) throw new IllegalArgumentException(key + ": array without element type");
            Object arr = v.value();
            boolean ok = switch (et) {
                case STRING -> arr instanceof String[];
                case FLOAT32, FLOAT64 -> arr instanceof double[];
                case BOOL -> arr instanceof boolean[];
                case ARRAY -> arr instanceof GGUFValue[];
                default -> arr instanceof long[];
            };
            if (!ok) throw new IllegalArgumentException(key + ": " + et + " array cannot hold " + (arr == null ? "null" : arr.getClass().getSimpleName()));
            switch (arr) {
                case long[] a -> { for (long x : a) checkRange(key, et, x); }
                case String[] a -> { for (String x : a) if (x == null) throw new IllegalArgumentException(key + ": null string in array"); }
                case GGUFValue[] a -> {
                    for (GGUFValue x : a) {
                        if (x == null || !x.isArray()) throw new IllegalArgumentException(key + ": an ARRAY array must hold arrays");
                        check(key, x, depth + 1);
                    }
                }
                default -> {}
            }
        } else {
            Object x = v.value();
            boolean ok = switch (v.type()) {
                case STRING -> x instanceof String;
                case FLOAT32, FLOAT64 -> x instanceof Double;
                case BOOL -> x instanceof Boolean;
                default -> x instanceof Long;
            };
            if (!ok) throw new IllegalArgumentException(key + ": " + v.type() + " cannot hold " + (x == null ? "null" : x.getClass().getSimpleName()));
            if (x instanceof Long l) checkRange(key, v.type(), l);
        }
    }

    private static void checkRange(String key, GGUFValueType t, long x) {
        long min, max;
        switch (t) {
            case UINT8 -> { min = 0; max = 0xFF; }
            case INT8 -> { min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; }
            case UINT16 -> { min = 0; max = 0xFFFF; }
            case INT16 -> { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
            case UINT32 -> { min = 0; max = 0xFFFFFFFFL; }
            case INT32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
            default -> { return; } // 64-bit: every long is a valid bit pattern (UINT64 above 2^63 included)
        }
        if (x < min || x > max) throw new IllegalArgumentException(key + ": " + x + " does not fit " + t);
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

    /** Little-endian output that counts every byte written, including those tensor sources write. */
    private static final class Out {
        final OutputStream stream;
        final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Out(OutputStream os) {
            this.stream = new FilterOutputStream(os) {
                @Override public void write(int b) throws IOException { out.write(b); written++; }
                @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); written += len; }
                @Override public void close() { } // a tensor source must not close the file
            };
        }

        void u8(int v) throws IOException { stream.write(v); }
        void i16(int v) throws IOException { buf.clear(); buf.putShort((short) v); stream.write(buf.array(), 0, 2); }
        void i32(int v) throws IOException { buf.clear(); buf.putInt(v); stream.write(buf.array(), 0, 4); }
        void i64(long v) throws IOException { buf.clear(); buf.putLong(v); stream.write(buf.array(), 0, 8); }
        void bytes(byte[] b) throws IOException { stream.write(b, 0, b.length); }
        void string(String s) throws IOException { byte[] b = s.getBytes(StandardCharsets.UTF_8); i64(b.length); bytes(b); }
        void pad(long n) throws IOException { for (long i = 0; i < n; i++) u8(0); }
        void flush() throws IOException { stream.flush(); }
    }
}
