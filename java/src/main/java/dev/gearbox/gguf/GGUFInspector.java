package dev.gearbox.gguf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Describes a GGUF file for people (a text report) and for tools (JSON): header facts, every
 * metadata value (arrays summarised by type, length and first elements), every tensor (name,
 * type, shape, bytes, offset), and totals (parameters, bytes, bytes per weight).
 */
public final class GGUFInspector {
    private static final int MAX_STRING_SHOWN = 120;

    private final GGUFFile file;
    private final int arrayElements;

    /** {@code arrayElements}: how many leading elements of each array to show. */
    public GGUFInspector(GGUFFile file, int arrayElements) {
        if (arrayElements < 0) throw new IllegalArgumentException("arrayElements must be >= 0");
        this.file = file;
        this.arrayElements = arrayElements;
    }

    public GGUFInspector(GGUFFile file) {
        this(file, 5);
    }

    /** Sums over all tensors. */
    public record Totals(int tensors, long parameters, long bytes) {
        /** Average storage per weight, 0 for a file without tensors. */
        public double bytesPerWeight() { return parameters == 0 ? 0 : (double) bytes / parameters; }
        public double bitsPerWeight() { return 8 * bytesPerWeight(); }
    }

    public Totals totals() {
        long params = 0, bytes = 0;
        for (TensorInfo t : file.tensors().values()) {
            params += t.elementCount();
            bytes += t.byteSize();
        }
        return new Totals(file.tensors().size(), params, bytes);
    }

    public void printText(PrintWriter out) {
        out.printf(Locale.ROOT, "file:        %s%n", file.path());
        out.printf(Locale.ROOT, "version:     GGUF v%d%n", file.version());
        out.printf(Locale.ROOT, "alignment:   %d%n", file.alignment());
        out.printf(Locale.ROOT, "data offset: %d (file size %d)%n", file.dataOffset(), file.fileSize());
        out.printf(Locale.ROOT, "%nmetadata (%d keys):%n", file.metadata().size());
        int keyWidth = file.metadata().keySet().stream().mapToInt(String::length).max().orElse(0);
        for (Map.Entry<String, GGUFValue> e : file.metadata().entrySet()) {
            out.printf(Locale.ROOT, "  %-" + keyWidth + "s  %s%n", e.getKey(), describe(e.getValue()));
        }
        out.printf(Locale.ROOT, "%ntensors (%d):%n", file.tensors().size());
        int nameWidth = Math.max(4, file.tensors().keySet().stream().mapToInt(String::length).max().orElse(0));
        out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-7s  %-22s  %14s  %14s%n", "name", "type", "shape", "bytes", "offset");
        for (TensorInfo t : file.tensors().values()) {
            out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-7s  %-22s  %,14d  %,14d%n", t.name(), t.type(), Arrays.toString(t.shape()),
                    t.byteSize(), t.offset());
        }
        Totals tot = totals();
        out.printf(Locale.ROOT, "%ntotals: %d tensors, %,d parameters, %,d bytes, %.4f bytes/weight (%.2f bits/weight)%n",
                tot.tensors(), tot.parameters(), tot.bytes(), tot.bytesPerWeight(), tot.bitsPerWeight());
        out.flush();
    }

    /** One line for a value: {@code TYPE value} or {@code ARRAY<ELEM>[n] [first, ...]}. */
    String describe(GGUFValue v) {
        if (!v.isArray()) return v.type() + " " + (v.value() instanceof String s ? quote(s) : v.toString());
        StringBuilder sb = new StringBuilder("ARRAY<").append(v.elementType()).append(">[").append(v.length()).append("]");
        int shown = Math.min(arrayElements, v.length());
        if (shown > 0) {
            sb.append(" [");
            for (int i = 0; i < shown; i++) {
                if (i > 0) sb.append(", ");
                sb.append(element(v, i));
            }
            sb.append(shown < v.length() ? ", ...]" : "]");
        }
        return sb.toString();
    }

    private String element(GGUFValue v, int i) {
        return switch (v.value()) {
            case String[] a -> quote(a[i]);
            case GGUFValue[] a -> describe(a[i]);
            default -> v.elementToString(i);
        };
    }

    /** A string as a quoted, escaped, length-limited literal: vocab pieces may hold control characters. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        int n = Math.min(s.length(), MAX_STRING_SHOWN);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
        if (s.length() > n) sb.append("...(").append(s.length()).append(" chars)");
        return sb.toString();
    }

    public void printJson(Writer out) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("file", file.path().toString());
            g.writeNumberField("version", file.version());
            g.writeNumberField("alignment", file.alignment());
            g.writeNumberField("data_offset", file.dataOffset());
            g.writeNumberField("file_size", file.fileSize());
            g.writeObjectFieldStart("metadata");
            for (Map.Entry<String, GGUFValue> e : file.metadata().entrySet()) {
                g.writeFieldName(e.getKey());
                writeJson(g, e.getValue());
            }
            g.writeEndObject();
            g.writeArrayFieldStart("tensors");
            for (TensorInfo t : file.tensors().values()) {
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeStringField("type", t.type().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeNumberField("elements", t.elementCount());
                g.writeNumberField("bytes", t.byteSize());
                g.writeNumberField("offset", t.offset());
                g.writeNumberField("file_offset", file.dataOffset() + t.offset());
                g.writeEndObject();
            }
            g.writeEndArray();
            Totals tot = totals();
            g.writeObjectFieldStart("totals");
            g.writeNumberField("tensors", tot.tensors());
            g.writeNumberField("parameters", tot.parameters());
            g.writeNumberField("bytes", tot.bytes());
            g.writeNumberField("bytes_per_weight", tot.bytesPerWeight());
            g.writeNumberField("bits_per_weight", tot.bitsPerWeight());
            g.writeEndObject();
            g.writeEndObject();
        }
        out.write(System.lineSeparator());
        out.flush();
    }

    private void writeJson(JsonGenerator g, GGUFValue v) throws IOException {
        g.writeStartObject();
        g.writeStringField("type", v.type().name());
        if (v.isArray()) {
            g.writeStringField("element_type", v.elementType().name());
            g.writeNumberField("length", v.length());
            g.writeArrayFieldStart("first");
            for (int i = 0; i < Math.min(arrayElements, v.length()); i++) {
                switch (v.value()) {
                    case long[] a -> writeInt(g, v.elementType(), a[i]);
                    case double[] a -> writeFloat(g, v.elementType(), a[i]);
                    case boolean[] a -> g.writeBoolean(a[i]);
                    case String[] a -> g.writeString(a[i]);
                    case GGUFValue[] a -> writeJson(g, a[i]);
                    default -> throw new IllegalStateException("unexpected array " + v.value().getClass());
                }
            }
            g.writeEndArray();
        } else {
            g.writeFieldName("value");
            switch (v.value()) {
                case Long l -> writeInt(g, v.type(), l);
                case Double d -> writeFloat(g, v.type(), d);
                case Boolean b -> g.writeBoolean(b);
                case String s -> g.writeString(s);
                default -> g.writeString(String.valueOf(v.value()));
            }
        }
        g.writeEndObject();
    }

    private static void writeFloat(JsonGenerator g, GGUFValueType t, double d) throws IOException {
        if (t == GGUFValueType.FLOAT32) g.writeNumber((float) d); // 1e-5, not 9.999999747378752E-6
        else g.writeNumber(d);
    }

    private static void writeInt(JsonGenerator g, GGUFValueType t, long x) throws IOException {
        if (t == GGUFValueType.UINT64 && x < 0) g.writeNumber(new java.math.BigInteger(Long.toUnsignedString(x)));
        else g.writeNumber(x);
    }
}
