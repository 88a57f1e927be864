package dev.gearbox.gguf;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * One metadata value with its GGUF type. Scalars hold a boxed value: integers as {@link Long}
 * (unsigned types read as their non-negative value), floats as {@link Double}, BOOL as
 * {@link Boolean}, STRING as {@link String}. Arrays hold a primitive array chosen by element type:
 * {@code long[]} for every integer type, {@code double[]} for FLOAT32/FLOAT64, {@code boolean[]},
 * {@code String[]}, or {@code GGUFValue[]} for nested arrays (each element itself an ARRAY value).
 *
 * <p>UINT64 is the one type a {@code long} cannot hold exactly: values of 2^63 and above are kept as
 * their two's-complement bit pattern (so they read back negative). {@link #unsigned()} and
 * {@link #toString()} show the true value; {@link GGUFFile#getLong} refuses such values rather than
 * returning a negative number.
 */
public record GGUFValue(GGUFValueType type, GGUFValueType elementType, Object value) {

    public static GGUFValue of(GGUFValueType type, Object value) {
        return new GGUFValue(type, null, value);
    }

    public static GGUFValue array(GGUFValueType elementType, Object values) {
        return new GGUFValue(GGUFValueType.ARRAY, elementType, values);
    }

    public static GGUFValue string(String s) { return of(GGUFValueType.STRING, s); }
    public static GGUFValue u8(long v) { return of(GGUFValueType.UINT8, v); }
    public static GGUFValue i8(long v) { return of(GGUFValueType.INT8, v); }
    public static GGUFValue u16(long v) { return of(GGUFValueType.UINT16, v); }
    public static GGUFValue i16(long v) { return of(GGUFValueType.INT16, v); }
    public static GGUFValue u32(long v) { return of(GGUFValueType.UINT32, v); }
    public static GGUFValue i32(long v) { return of(GGUFValueType.INT32, v); }
    /** A UINT64; values of 2^63 and above are passed as their bit pattern (negative longs). */
    public static GGUFValue u64(long v) { return of(GGUFValueType.UINT64, v); }
    public static GGUFValue i64(long v) { return of(GGUFValueType.INT64, v); }
    public static GGUFValue f32(double v) { return of(GGUFValueType.FLOAT32, (double) (float) v); }
    public static GGUFValue f64(double v) { return of(GGUFValueType.FLOAT64, v); }
    public static GGUFValue bool(boolean v) { return of(GGUFValueType.BOOL, v); }
    public static GGUFValue strings(String... v) { return array(GGUFValueType.STRING, v); }
    public static GGUFValue f32s(double[] v) { return array(GGUFValueType.FLOAT32, v); }
    public static GGUFValue i32s(long[] v) { return array(GGUFValueType.INT32, v); }
    public static GGUFValue bools(boolean... v) { return array(GGUFValueType.BOOL, v); }
    /** An array of integers of {@code elementType} (any of the eight integer types). */
    public static GGUFValue ints(GGUFValueType elementType, long... v) { return array(elementType, v); }
    /** An array of arrays; every element must itself be an ARRAY value. */
    public static GGUFValue arrays(GGUFValue... v) { return array(GGUFValueType.ARRAY, v); }

    public boolean isArray() { return type == GGUFValueType.ARRAY; }

    /** True for the four unsigned integer types. */
    public static boolean isUnsigned(GGUFValueType t) {
        return t == GGUFValueType.UINT8 || t == GGUFValueType.UINT16 || t == GGUFValueType.UINT32 || t == GGUFValueType.UINT64;
    }

    /** True for the eight integer types. */
    public static boolean isInteger(GGUFValueType t) {
        return switch (t) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The exact value of an integer scalar, UINT64 values above 2^63 included. */
    public BigInteger unsigned() {
        if (!(value instanceof Long l)) throw new IllegalStateException("not an integer: " + type);
        return type == GGUFValueType.UINT64 && l < 0 ? new BigInteger(Long.toUnsignedString(l)) : BigInteger.valueOf(l);
    }

    /** Number of elements of an array value. */
    public int length() {
        return switch (value) {
            case long[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case GGUFValue[] a -> a.length;
            default -> throw new IllegalStateException("not an array: " + type);
        };
    }

    /** Element {@code i} of an array as text (integers of UINT64 arrays shown unsigned). */
    public String elementToString(int i) {
        return switch (value) {
            case long[] a -> elementType == GGUFValueType.UINT64 ? Long.toUnsignedString(a[i]) : Long.toString(a[i]);
            case double[] a -> elementType == GGUFValueType.FLOAT32 ? Float.toString((float) a[i]) : Double.toString(a[i]);
            case boolean[] a -> Boolean.toString(a[i]);
            case String[] a -> a[i];
            case GGUFValue[] a -> a[i].toString();
            default -> throw new IllegalStateException("not an array: " + type);
        };
    }

    @Override
    public String toString() {
        return switch (value) {
            case long[] a -> elementType + "[" + a.length + "]";
            case double[] a -> elementType + "[" + a.length + "]";
            case boolean[] a -> elementType + "[" + a.length + "]";
            case String[] a -> "STRING[" + a.length + "]" + (a.length <= 4 ? Arrays.toString(a) : "");
            case GGUFValue[] a -> "ARRAY[" + a.length + "]";
            case Long l when type == GGUFValueType.UINT64 -> Long.toUnsignedString(l);
            case Double d when type == GGUFValueType.FLOAT32 -> Float.toString(d.floatValue()); // shortest text of the stored float
            default -> String.valueOf(value);
        };
    }

    /** Value equality (records compare arrays by identity, which is useless for metadata). */
    public boolean sameAs(GGUFValue o) {
        if (o == null || type != o.type || elementType != o.elementType) return false;
        return switch (value) {
            case long[] a -> o.value instanceof long[] b && Arrays.equals(a, b);
            case double[] a -> o.value instanceof double[] b && Arrays.equals(a, b);
            case boolean[] a -> o.value instanceof boolean[] b && Arrays.equals(a, b);
            case String[] a -> o.value instanceof String[] b && Arrays.equals(a, b);
            case GGUFValue[] a -> {
                if (!(o.value instanceof GGUFValue[] b) || a.length != b.length) yield false;
                for (int i = 0; i < a.length; i++) if (!a[i].sameAs(b[i])) yield false;
                yield true;
            }
            default -> value.equals(o.value);
        };
    }
}
