package dev.gearbox.gguf;

import dev.gearbox.tensor.GGMLType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF file (v2 or v3) mapped read-only into memory. The header is parsed and validated when the
 * file is opened; tensor data stays in the mapping and is handed out as slices, so weights are never
 * copied onto the Java heap. Every problem is a {@link GGUFFormatException} naming the file, the
 * field or tensor, and the byte offset.
 */
public final class GGUFFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    public static final long DEFAULT_ALIGNMENT = 32;

    // Limits that no real file comes near; they turn absurd counts into errors instead of OOMs.
    static final long MAX_TENSORS = 1L << 20;
    static final long MAX_KV = 1L << 20;
    static final long MAX_STRING = 1L << 30;
    // Arrays are held as long[] even for UINT8, so this also bounds the heap a hostile file can claim.
    static final long MAX_ARRAY = 1L << 26;
    static final int MAX_DIMS = 4;
    static final int MAX_NESTING = 4;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GGUFValue> metadata;
    private final Map<String, Long> valueOffsets;
    private final Map<String, TensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;

    private GGUFFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GGUFValue> metadata,
                     Map<String, Long> valueOffsets, Map<String, TensorInfo> tensors, long alignment, long dataOffset) {
        this.valueOffsets = valueOffsets;
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Maps and validates {@code path}. The caller closes the returned file to unmap it. */
    public static GGUFFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) throw new GGUFFormatException(path, -1, "is a directory, not a GGUF file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                seg = ch.size() == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (NoSuchFileException e) {
                throw new GGUFFormatException(path, -1, "no such file");
            } catch (AccessDeniedException e) {
                throw new GGUFFormatException(path, -1, "permission denied");
            }
            return parse(path, arena, seg);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Parses GGUF bytes that are already in memory (a resource, a test buffer). {@code name} is only
     * used in error messages. The segment must stay valid while the returned file is used; closing
     * the returned file does not free it.
     */
    public static GGUFFile parse(Path name, MemorySegment contents) throws GGUFFormatException {
        return parse(name, null, contents);
    }

    private static GGUFFile parse(Path path, Arena arena, MemorySegment seg) throws GGUFFormatException {
        Cursor in = new Cursor(path, seg);
        if (seg.byteSize() < 4) throw new GGUFFormatException(path, 0, "file too short for a GGUF header (" + seg.byteSize() + " bytes)");
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new GGUFFormatException(path, 0, String.format("not a GGUF file: wrong magic 0x%08x (expected \"GGUF\")", magic));
        }
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            String hint = version == 1 ? " (GGUF v1 predates 64-bit counts; re-convert the model)"
                    : (version & 0xFFFF) == 0 && version != 0 ? " (looks like a big-endian file, which is not supported)" : "";
            throw new GGUFFormatException(path, 4, "unsupported GGUF version " + Integer.toUnsignedString(version) + " (supported: 2, 3)" + hint);
        }
        long tensorCount = in.count("tensor_count", MAX_TENSORS);
        long kvCount = in.count("metadata_kv_count", MAX_KV);

        Map<String, GGUFValue> metadata = new LinkedHashMap<>();
        Map<String, Long> valueAt = new HashMap<>(); // file offset of each metadata value, for later messages
        for (long i = 0; i < kvCount; i++) {
            long at = in.pos;
            String key = in.string("metadata key #" + i);
            int typeId = in.i32("type of metadata '" + key + "'");
            GGUFValueType type = GGUFValueType.byId(typeId);
            if (type == null) throw new GGUFFormatException(path, in.pos - 4, "metadata '" + key + "': unknown value type " + typeId);
            valueAt.put(key, in.pos);
            GGUFValue v = in.value(type, "metadata '" + key + "'", 0);
            if (metadata.put(key, v) != null) throw new GGUFFormatException(path, at, "duplicate metadata key '" + key + "'");
        }

        long alignment = DEFAULT_ALIGNMENT;
        GGUFValue a = metadata.get("general.alignment");
        if (a != null) {
            if (!(a.value() instanceof Long al) || al <= 0 || (al & (al - 1)) != 0 || al > (1 << 20)) {
                throw new GGUFFormatException(path, valueAt.get("general.alignment"), "metadata 'general.alignment' must be a power of two up to 2^20, got "
                        + a.type() + " " + a);
            }
            alignment = al;
        }

        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        Map<String, Long> offsetFieldAt = new HashMap<>(); // where each tensor's offset field sits, for messages
        for (long i = 0; i < tensorCount; i++) {
            long at = in.pos;
            String name = in.string("name of tensor #" + i);
            if (!seen.add(name)) throw new GGUFFormatException(path, at, "duplicate tensor '" + name + "'");
            String what = "tensor '" + name + "'";
            int nDims = in.i32(what + " n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GGUFFormatException(path, in.pos - 4, what + ": bad number of dimensions " + nDims + " (must be 1.." + MAX_DIMS + ")");
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                shape[d] = in.i64(what + " dimension " + d);
                // llama.cpp accepts empty dimensions, so we do too; negative or astronomically large ones are corrupt.
                if (shape[d] < 0 || shape[d] > (1L << 40)) {
                    throw new GGUFFormatException(path, in.pos - 8, what + ": bad dimension " + d + " = " + Long.toUnsignedString(shape[d]));
                }
                elements = Math.multiplyHigh(elements, shape[d]) != 0 ? -1 : elements * shape[d];
                if (elements < 0) throw new GGUFFormatException(path, in.pos - 8, what + ": element count overflows 64 bits");
            }
            int typeId = in.i32(what + " type");
            GGMLType type = GGMLType.byId(typeId);
            if (type == null) throw new GGUFFormatException(path, in.pos - 4, what + ": unknown tensor type " + typeId);
            if (shape[0] % type.blockSize() != 0) {
                throw new GGUFFormatException(path, in.pos - 4, what + ": row length " + shape[0] + " is not a multiple of " + type + "'s block size " + type.blockSize());
            }
            long blocks = elements / type.blockSize();
            if (Math.multiplyHigh(blocks, type.typeSize()) != 0 || blocks * type.typeSize() < 0) {
                throw new GGUFFormatException(path, in.pos - 4, what + ": byte size of " + elements + " " + type + " values overflows 64 bits");
            }
            offsetFieldAt.put(name, in.pos);
            long offset = in.i64(what + " offset");
            if (offset < 0) throw new GGUFFormatException(path, in.pos - 8, what + ": negative data offset " + offset);
            if (offset % alignment != 0) {
                throw new GGUFFormatException(path, in.pos - 8, what + ": data offset " + offset + " is not a multiple of the alignment " + alignment);
            }
            tensors.put(name, new TensorInfo(name, type, shape, offset));
        }

        long dataOffset = (in.pos + alignment - 1) / alignment * alignment;
        if (tensorCount > 0 && dataOffset > seg.byteSize()) {
            throw new GGUFFormatException(path, seg.byteSize(), "file truncated: tensor data section would start at byte " + dataOffset);
        }
        for (TensorInfo t : tensors.values()) {
            // Written as subtractions so that no sum of file-controlled values can overflow.
            long room = seg.byteSize() - dataOffset;
            if (t.offset() > room || t.byteSize() > room - t.offset()) {
                throw new GGUFFormatException(path, offsetFieldAt.get(t.name()), "tensor '" + t.name() + "' (" + t.type() + " "
                        + java.util.Arrays.toString(t.shape()) + ", " + t.byteSize() + " bytes at data offset " + t.offset()
                        + ") runs past the end of the file (" + seg.byteSize() + " bytes, data section starts at " + dataOffset + "): truncated file?");
            }
        }
        return new GGUFFile(path, arena, seg, version, metadata, valueAt, tensors, alignment, dataOffset);
    }

    public Path path() { return path; }
    public int version() { return version; }
    public long alignment() { return alignment; }
    public long dataOffset() { return dataOffset; }
    public long fileSize() { return file.byteSize(); }
    public Map<String, GGUFValue> metadata() { return metadata; }
    public Map<String, TensorInfo> tensors() { return tensors; }
    public List<TensorInfo> tensorList() { return List.copyOf(tensors.values()); }

    /** The raw bytes of a tensor, a slice of the read-only mapping. */
    public MemorySegment data(TensorInfo t) {
        return file.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    public TensorInfo tensor(String name) { return tensors.get(name); }

    /** File offset of metadata {@code key}'s value, or -1 when absent. */
    public long metadataOffset(String key) { return valueOffsets.getOrDefault(key, -1L); }

    public boolean has(String key) { return metadata.containsKey(key); }

    public GGUFValue get(String key) { return metadata.get(key); }

    /** A string value, or {@code def} when the key is absent. A value of another type is an error. */
    public String getString(String key, String def) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return def;
        if (v.value() instanceof String s) return s;
        throw typeError(key, v, "a string");
    }

    public String requireString(String key) throws GGUFFormatException {
        String s = getString(key, null);
        if (s == null) throw new GGUFFormatException(path, -1, "missing metadata '" + key + "'");
        return s;
    }

    /** An integer value, or {@code def} when the key is absent. A UINT64 of 2^63 or more is an error. */
    public long getLong(String key, long def) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return def;
        if (v.value() instanceof Long l) {
            if (l < 0 && v.type() == GGUFValueType.UINT64) {
                throw new GGUFFormatException(path, metadataOffset(key), "metadata '" + key + "' = " + v + " does not fit a signed 64-bit integer");
            }
            return l;
        }
        throw typeError(key, v, "an integer");
    }

    public long requireLong(String key) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) throw new GGUFFormatException(path, -1, "missing metadata '" + key + "'");
        return getLong(key, 0);
    }

    /** An integer that must fit an int and lie in [min, max]. */
    public int requireInt(String key, int min, int max) throws GGUFFormatException {
        long v = requireLong(key);
        if (v < min || v > max) throw new GGUFFormatException(path, metadataOffset(key), "metadata '" + key + "' = " + metadata.get(key) + " is outside [" + min + ", " + max + "]");
        return (int) v;
    }

    public int getInt(String key, int def, int min, int max) throws GGUFFormatException {
        if (!metadata.containsKey(key)) return def;
        return requireInt(key, min, max);
    }

    public double getDouble(String key, double def) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return def;
        if (v.value() instanceof Double d) return d;
        if (v.value() instanceof Long l) return l;
        throw typeError(key, v, "a number");
    }

    public boolean getBool(String key, boolean def) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return def;
        if (v.value() instanceof Boolean b) return b;
        throw typeError(key, v, "a bool");
    }

    public String[] getStrings(String key) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return null;
        if (v.value() instanceof String[] s) return s;
        throw typeError(key, v, "an array of strings");
    }

    public double[] getDoubles(String key) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return null;
        if (v.value() instanceof double[] d) return d;
        if (v.value() instanceof long[] l) {
            double[] d = new double[l.length];
            for (int i = 0; i < l.length; i++) d[i] = l[i];
            return d;
        }
        throw typeError(key, v, "an array of numbers");
    }

    public long[] getLongs(String key) throws GGUFFormatException {
        GGUFValue v = metadata.get(key);
        if (v == null) return null;
        if (v.value() instanceof long[] l) return l;
        throw typeError(key, v, "an array of integers");
    }

    private GGUFFormatException typeError(String key, GGUFValue v, String expected) {
        return new GGUFFormatException(path, metadataOffset(key), "metadata '" + key + "' should be " + expected + " but is " + v.type()
                + (v.elementType() != null ? " of " + v.elementType() : ""));
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
    }

    /** Bounds-checked little-endian reader over the mapping; every read names what it reads. */
    private static final class Cursor {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        final Path path;
        final MemorySegment seg;
        // One strict decoder per parse: making one per string dominated vocabulary loading.
        final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        long pos;

        Cursor(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        void need(long n, String what) throws GGUFFormatException {
            if (n < 0 || pos + n > seg.byteSize() || pos + n < 0) {
                throw new GGUFFormatException(path, pos, "file truncated while reading " + what + " (needs " + n + " bytes, "
                        + Math.max(0, seg.byteSize() - pos) + " left)");
            }
        }

        int i32(String what) throws GGUFFormatException {
            need(4, what);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64(String what) throws GGUFFormatException {
            need(8, what);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        long count(String what, long max) throws GGUFFormatException {
            long at = pos;
            long n = i64(what);
            if (n < 0 || n > max) throw new GGUFFormatException(path, at, "absurd " + what + " " + Long.toUnsignedString(n) + " (limit " + max + ")");
            return n;
        }

        String string(String what) throws GGUFFormatException {
            return string(what, -1);
        }

        /**
         * Reads a length-prefixed UTF-8 string. {@code index} >= 0 names an array element; the
         * label is only assembled when there is an error, since vocabularies hold 10^5 strings.
         */
        String string(String what, long index) throws GGUFFormatException {
            long at = pos;
            if (seg.byteSize() - pos < 8) throw new GGUFFormatException(path, pos, "file truncated while reading " + label(what, index) + " length");
            long len = seg.get(I64, pos);
            if (len < 0 || len > MAX_STRING) {
                throw new GGUFFormatException(path, at, "absurd length " + Long.toUnsignedString(len) + " of " + label(what, index));
            }
            pos += 8;
            if (len > seg.byteSize() - pos) {
                throw new GGUFFormatException(path, pos, "file truncated while reading " + label(what, index) + " (needs " + len + " bytes, "
                        + (seg.byteSize() - pos) + " left)");
            }
            MemorySegment bytes = seg.asSlice(pos, len);
            pos += len;
            try {
                return utf8.decode(bytes.asByteBuffer()).toString();
            } catch (CharacterCodingException e) {
                // Some real vocabularies hold pieces that are not valid UTF-8 on their own; keep them lossy.
                return new String(bytes.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            }
        }

        private static String label(String what, long index) {
            return index < 0 ? what : what + "[" + index + "]";
        }

        GGUFValue value(GGUFValueType type, String what, int depth) throws GGUFFormatException {
            return switch (type) {
                case UINT8 -> { need(1, what); long v = seg.get(ValueLayout.JAVA_BYTE, pos) & 0xFFL; pos += 1; yield GGUFValue.of(type, v); }
                case INT8 -> { need(1, what); long v = seg.get(ValueLayout.JAVA_BYTE, pos); pos += 1; yield GGUFValue.of(type, v); }
                case UINT16 -> { need(2, what); long v = seg.get(I16, pos) & 0xFFFFL; pos += 2; yield GGUFValue.of(type, v); }
                case INT16 -> { need(2, what); long v = seg.get(I16, pos); pos += 2; yield GGUFValue.of(type, v); }
                case UINT32 -> GGUFValue.of(type, i32(what) & 0xFFFFFFFFL);
                case INT32 -> GGUFValue.of(type, (long) i32(what));
                case UINT64, INT64 -> GGUFValue.of(type, i64(what));
                case FLOAT32 -> { need(4, what); double v = seg.get(F32, pos); pos += 4; yield GGUFValue.of(type, v); }
                case FLOAT64 -> { need(8, what); double v = seg.get(F64, pos); pos += 8; yield GGUFValue.of(type, v); }
                case BOOL -> {
                    need(1, what);
                    byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                    if (b != 0 && b != 1) throw new GGUFFormatException(path, pos, what + ": bool must be 0 or 1, got " + b);
                    pos += 1;
                    yield GGUFValue.of(type, b == 1);
                }
                case STRING -> GGUFValue.of(type, string(what));
                case ARRAY -> array(what, depth);
            };
        }

        GGUFValue array(String what, int depth) throws GGUFFormatException {
            if (depth >= MAX_NESTING) throw new GGUFFormatException(path, pos, what + ": arrays nested too deeply");
            int typeId = i32(what + " element type");
            GGUFValueType et = GGUFValueType.byId(typeId);
            if (et == null) throw new GGUFFormatException(path, pos - 4, what + ": unknown array element type " + typeId);
            long at = pos;
            long n = i64(what + " array length");
            if (n < 0 || n > MAX_ARRAY) throw new GGUFFormatException(path, at, what + ": absurd array length " + Long.toUnsignedString(n));
            // Each element takes at least one byte (strings at least 8): check before allocating.
            long minBytes = et.size() > 0 ? et.size() : (et == GGUFValueType.STRING ? 8 : 12);
            if (n * minBytes > seg.byteSize() - pos) {
                throw new GGUFFormatException(path, at, what + ": array of " + n + " " + et + " runs past the end of the file ("
                        + (seg.byteSize() - pos) + " bytes left): truncated file or corrupt length?");
            }
            int len = (int) n;
            // Fixed-size elements were bounds-checked as a whole above, so they are read directly.
            switch (et) {
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) a[i] = string(what, i);
                    return GGUFValue.array(et, a);
                }
                case FLOAT32 -> {
                    double[] a = new double[len];
                    for (int i = 0; i < len; i++, pos += 4) a[i] = seg.get(F32, pos);
                    return GGUFValue.array(et, a);
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    for (int i = 0; i < len; i++, pos += 8) a[i] = seg.get(F64, pos);
                    return GGUFValue.array(et, a);
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++, pos++) {
                        byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                        if (b != 0 && b != 1) throw new GGUFFormatException(path, pos, what + "[" + i + "]: bool must be 0 or 1, got " + b);
                        a[i] = b == 1;
                    }
                    return GGUFValue.array(et, a);
                }
                case ARRAY -> {
                    GGUFValue[] a = new GGUFValue[len];
                    for (int i = 0; i < len; i++) a[i] = array(what + "[" + i + "]", depth + 1);
                    return GGUFValue.array(et, a);
                }
                default -> {
                    long[] a = new long[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = switch (et) {
                            case UINT8 -> seg.get(ValueLayout.JAVA_BYTE, pos) & 0xFFL;
                            case INT8 -> seg.get(ValueLayout.JAVA_BYTE, pos);
                            case UINT16 -> seg.get(I16, pos) & 0xFFFFL;
                            case INT16 -> seg.get(I16, pos);
                            case UINT32 -> seg.get(I32, pos) & 0xFFFFFFFFL;
                            case INT32 -> seg.get(I32, pos);
                            default -> seg.get(I64, pos); // UINT64, INT64
                        };
                        pos += et.size();
                    }
                    return GGUFValue.array(et, a);
                }
            }
        }
    }
}
