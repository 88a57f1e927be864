package dev.gearbox.constrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Character classes lowered to UTF-8 byte ranges match exactly their code points, every one of them checked. */
class Utf8RangesTest {

    static boolean inRanges(int cp, int[] ranges) {
        for (int i = 0; i < ranges.length; i += 2) if (cp >= ranges[i] && cp <= ranges[i + 1]) return true;
        return false;
    }

    static void checkEveryCodePoint(int[] ranges, boolean negated) {
        GrammarBuilder b = new GrammarBuilder();
        b.rule("root", new Expr.CharClass(ranges, negated));
        Grammar g = b.build("root");
        Recognizer r = new Recognizer(g);
        Recognizer.State start = r.initial();
        for (int cp = 0; cp <= Utf8Ranges.MAX; cp++) {
            boolean surrogate = cp >= 0xD800 && cp <= 0xDFFF;
            byte[] bytes = surrogate ? Bytes.of(0xED, 0xA0 | (cp >> 6 & 0x1F), 0x80 | (cp & 0x3F)) // CESU-style, never valid
                    : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            boolean expected = !surrogate && inRanges(cp, ranges) != negated;
            Recognizer.State s = r.walk(start, bytes);
            if (s.accepting != expected) {
                throw new AssertionError(String.format("U+%04X: expected %s for ranges %s negated=%s", cp, expected,
                        java.util.Arrays.toString(ranges), negated));
            }
        }
    }

    @Test
    void jsonStringCharacters() {
        checkEveryCodePoint(new int[] {'"', '"', '\\', '\\', 0, 0x1F}, true);
    }

    @Test
    void anyCharacter() {
        checkEveryCodePoint(new int[0], true);
    }

    @Test
    void randomClassesAcrossEncodingLengths() {
        SplittableRandom rnd = new SplittableRandom(42);
        int[] edges = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0x10FFFF};
        for (int trial = 0; trial < 4; trial++) {
            int[] ranges = new int[6];
            for (int i = 0; i < ranges.length; i += 2) {
                int lo = rnd.nextBoolean() ? edges[rnd.nextInt(edges.length)] : rnd.nextInt(Utf8Ranges.MAX + 1);
                int hi = Math.min(Utf8Ranges.MAX, lo + rnd.nextInt(rnd.nextBoolean() ? 100 : 200_000));
                ranges[i] = lo;
                ranges[i + 1] = hi;
            }
            checkEveryCodePoint(ranges, trial % 2 == 1);
        }
    }

    @Test
    void normaliseMergesAndCutsSurrogates() {
        assertThat(Utf8Ranges.normalise(new int[] {5, 10, 1, 6, 12, 12}, false)).containsExactly(1, 10, 12, 12);
        assertThat(Utf8Ranges.normalise(new int[] {0xD000, 0xE100}, false)).containsExactly(0xD000, 0xD7FF, 0xE000, 0xE100);
        assertThat(Utf8Ranges.normalise(new int[] {0, 0x10FFFF}, true)).isEmpty();
    }
}
