package dev.gearbox.gguf;

import java.util.Arrays;

/**
 * One metadata value with its GGUF type. Scalars hold a boxed value: integers as {@link Long}
 * (unsigned types read as their non-negative value), floats as {@link Double}, BOOL as
 * {@link Boolean}, STRING as {@link String}. Arrays hold a primitive array chosen by element type:
 * {@code long[]} for every integer type, {@code double[]} for FLOAT32/FLOAT64, {@code boolean[]},
 * {@code String[]}, or {@code GGUFValue[]} for nested arrays.
 */
public record GGUFValue(GGUFValueType type, GGUFValueType elementType, Object value) {

    public static GGUFValue of(GGUFValueType type, Object value) {
        return new GGUFValue(type, null, value);
    }

    public static GGUFValue array(GGUFValueType elementType, Object values) {
        return new GGUFValue(GGUFValueType.ARRAY, elementType, values);
    }

    public static GGUFValue string(String s) { return of(GGUFValueType.STRING, s); }
    public static GGUFValue u32(long v) { return of(GGUFValueType.UINT32, v); }
    public static GGUFValue i32(long v) { return of(GGUFValueType.INT32, v); }
    public static GGUFValue u64(long v) { return of(GGUFValueType.UINT64, v); }
    public static GGUFValue f32(double v) { return of(GGUFValueType.FLOAT32, (double) (float) v); }
    public static GGUFValue bool(boolean v) { return of(GGUFValueType.BOOL, v); }
    public static GGUFValue strings(String... v) { return array(GGUFValueType.STRING, v); }
    public static GGUFValue f32s(double[] v) { return array(GGUFValueType.FLOAT32, v); }
    public static GGUFValue i32s(long[] v) { return array(GGUFValueType.INT32, v); }

    public boolean isArray() { return type == GGUFValueType.ARRAY; }

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

    @Override
    public String toString() {
        return switch (value) {
            case long[] a -> elementType + "[" + a.length + "]";
            case double[] a -> elementType + "[" + a.length + "]";
            case boolean[] a -> elementType + "[" + a.length + "]";
            case String[] a -> "STRING[" + a.length + "]" + (a.length <= 4 ? Arrays.toString(a) : "");
            case GGUFValue[] a -> "ARRAY[" + a.length + "]";
            default -> String.valueOf(value);
        };
    }
}
