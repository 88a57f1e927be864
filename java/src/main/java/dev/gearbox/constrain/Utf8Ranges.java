package dev.gearbox.constrain;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a set of code points into the UTF-8 byte sequences that encode exactly those code points,
 * each a list of byte ranges (the construction regex engines use to run Unicode classes on bytes).
 * Working on bytes lets a token end in the middle of a character: the recognizer simply sits between
 * two byte ranges of one sequence.
 */
final class Utf8Ranges {
    static final int MAX = 0x10FFFF;
    private static final int[] MAX_OF_LENGTH = {0x7F, 0x7FF, 0xFFFF, MAX};

    private Utf8Ranges() {}

    /**
     * Normalises {@code ranges} (lo/hi pairs, any order, may overlap) into sorted disjoint pairs,
     * complemented when {@code negated}, with surrogates removed.
     */
    static int[] normalise(int[] ranges, boolean negated) {
        if (ranges.length % 2 != 0) throw new IllegalArgumentException("ranges must be lo/hi pairs");
        List<int[]> list = new ArrayList<>();
        for (int i = 0; i < ranges.length; i += 2) {
            int lo = ranges[i], hi = ranges[i + 1];
            if (lo < 0 || hi > MAX || lo > hi) throw new IllegalArgumentException("bad code point range " + lo + ".." + hi);
            list.add(new int[] {lo, hi});
        }
        list.sort((a, b) -> Integer.compare(a[0], b[0]));
        List<int[]> merged = new ArrayList<>();
        for (int[] r : list) {
            if (!merged.isEmpty() && r[0] <= merged.getLast()[1] + 1) {
                merged.getLast()[1] = Math.max(merged.getLast()[1], r[1]);
            } else {
                merged.add(r.clone());
            }
        }
        if (negated) {
            List<int[]> comp = new ArrayList<>();
            int next = 0;
            for (int[] r : merged) {
                if (r[0] > next) comp.add(new int[] {next, r[0] - 1});
                next = r[1] + 1;
            }
            if (next <= MAX) comp.add(new int[] {next, MAX});
            merged = comp;
        }
        List<Integer> out = new ArrayList<>();
        for (int[] r : merged) { // cut out the surrogates
            if (r[1] < 0xD800 || r[0] > 0xDFFF) {
                out.add(r[0]);
                out.add(r[1]);
            } else {
                if (r[0] < 0xD800) { out.add(r[0]); out.add(0xD7FF); }
                if (r[1] > 0xDFFF) { out.add(0xE000); out.add(r[1]); }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The byte-range sequences for sorted disjoint surrogate-free code point ranges: each element is
     * {lo0, hi0, lo1, hi1, ...}, one pair per byte of the encoding.
     */
    static List<int[]> sequences(int[] normalised) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < normalised.length; i += 2) split(normalised[i], normalised[i + 1], out);
        return out;
    }

    // First by encoded length, then recursively until every byte position is a full range.
    private static void split(int lo, int hi, List<int[]> out) {
        for (int len = 1; len <= 4; len++) {
            int min = len == 1 ? 0 : MAX_OF_LENGTH[len - 2] + 1;
            int max = MAX_OF_LENGTH[len - 1];
            int a = Math.max(lo, min), b = Math.min(hi, max);
            if (a <= b) splitSameLength(a, b, len, out);
        }
    }

    private static void splitSameLength(int lo, int hi, int len, List<int[]> out) {
        // Find the largest tail (the last k continuation bytes) over which [lo, hi] can be split so
        // that both ends are aligned: then the leading bytes vary as a range and the tail is full.
        for (int k = 1; k < len; k++) {
            int m = (1 << (6 * k)) - 1; // the bits of k continuation bytes
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    splitSameLength(lo, lo | m, len, out);
                    splitSameLength((lo | m) + 1, hi, len, out);
                    return;
                }
                if ((hi & m) != m) {
                    splitSameLength(lo, (hi & ~m) - 1, len, out);
                    splitSameLength(hi & ~m, hi, len, out);
                    return;
                }
            }
        }
        byte[] a = encode(lo, len), b = encode(hi, len);
        int[] seq = new int[2 * len];
        for (int i = 0; i < len; i++) {
            seq[2 * i] = a[i] & 0xFF;
            seq[2 * i + 1] = b[i] & 0xFF;
        }
        out.add(seq);
    }

    static byte[] encode(int cp, int len) {
        return switch (len) {
            case 1 -> new byte[] {(byte) cp};
            case 2 -> new byte[] {(byte) (0xC0 | cp >> 6), (byte) (0x80 | cp & 0x3F)};
            case 3 -> new byte[] {(byte) (0xE0 | cp >> 12), (byte) (0x80 | cp >> 6 & 0x3F), (byte) (0x80 | cp & 0x3F)};
            default -> new byte[] {(byte) (0xF0 | cp >> 18), (byte) (0x80 | cp >> 12 & 0x3F),
                    (byte) (0x80 | cp >> 6 & 0x3F), (byte) (0x80 | cp & 0x3F)};
        };
    }
}
