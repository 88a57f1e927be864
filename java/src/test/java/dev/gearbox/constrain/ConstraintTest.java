package dev.gearbox.constrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The per-request constraint over a small hand-made vocabulary: allows, mask, accept, the end token. */
class ConstraintTest {
    // Token 0 is the end-of-generation token; 1 is a "special" token with no bytes.
    static final List<byte[]> TOKENS = new ArrayList<>();
    static final int EOG = 0;

    static {
        TOKENS.add(null);
        TOKENS.add(null);
        for (String s : List.of("{", "}", "\"", "\":", ":", ",", " ", "\"a", "a", "b", "ab", "\"}", "1", "0", "12", "-", ".", "e",
                "[", "]", "\\", "\\n", "n", "u", "00", "e9", "é", "\"é\"", "null", "true", "tr", "ue", "{\"", "\"a\"", "\":\"", "\n",
                "  ", "😀")) {
            TOKENS.add(s.getBytes(StandardCharsets.UTF_8));
        }
        TOKENS.add(Bytes.of(0xC3)); // the first byte of é
        TOKENS.add(Bytes.of(0xA9)); // its second byte
        TOKENS.add(Bytes.of(0xA9, '"'));
        TOKENS.add(Bytes.of(0xF0, 0x9F)); // half of 😀
        TOKENS.add(Bytes.of(0x98, 0x80, '"'));
        TOKENS.add(Bytes.of(0xFF));
        // Every printable ASCII character on its own (some again), so that no grammar can get stuck.
        for (int c = 0x20; c < 0x7F; c++) TOKENS.add(Bytes.of(c));
    }

    static TokenVocabulary vocab() {
        return TokenVocabulary.ofBytes(TOKENS.toArray(byte[][]::new), EOG);
    }

    static int id(String s) {
        return id(s.getBytes(StandardCharsets.UTF_8));
    }

    static int id(byte[] b) {
        for (int i = 0; i < TOKENS.size(); i++) if (TOKENS.get(i) != null && java.util.Arrays.equals(TOKENS.get(i), b)) return i;
        throw new IllegalArgumentException("no token " + new String(b, StandardCharsets.UTF_8));
    }

    static Constraint constraint(String schema) {
        return new Constraint(JsonSchemaCompiler.compile(schema.replace('\'', '"')), vocab());
    }

    @Test
    void multiByteCharactersSplitAcrossTokens() {
        Constraint c = constraint("{'type':'string','maxLength':2}");
        c.accept(id("\""));
        c.accept(id(Bytes.of(0xC3)));
        assertThat(c.allows(id("\""))).as("a string cannot close inside a character").isFalse();
        assertThat(c.allows(id("a"))).isFalse();
        assertThat(c.allows(id(Bytes.of(0xA9)))).isTrue();
        c.accept(id(Bytes.of(0xA9)));
        c.accept(id(Bytes.of(0xF0, 0x9F)));
        assertThat(c.allows(id(Bytes.of(0xA9, '"')))).isFalse(); // 0xA9 cannot continue F0 9F
        c.accept(id(Bytes.of(0x98, 0x80, '"')));
        assertThat(c.canEnd()).isTrue();
        assertThat(c.complete()).isTrue();
        c.accept(EOG);
        assertThat(c.ended()).isTrue();
        assertThat(c.allows(EOG)).isFalse();
    }

    @Test
    void escapesAcrossTokens() {
        Constraint c = constraint("{'type':'string'}");
        c.accept(id("\""));
        c.accept(id("\\"));
        assertThat(c.allows(id("n"))).isTrue();
        assertThat(c.allows(id("a"))).isFalse();
        assertThat(c.allows(id("u"))).isTrue();
        c.accept(id("u"));
        c.accept(id("00"));
        assertThat(c.allows(id("\""))).isFalse(); // \\u00 needs two more hex digits
        c.accept(id("e9"));
        c.accept(id("\""));
        assertThat(c.canEnd()).isTrue();
    }

    @Test
    void endOfGenerationOnlyWhenComplete() {
        Constraint c = constraint("{'type':'integer'}");
        assertThat(c.allows(EOG)).isFalse();
        assertThat(c.canEnd()).isFalse();
        c.accept(id("12"));
        assertThat(c.canEnd()).isTrue();
        assertThat(c.complete()).as("more digits may follow").isFalse();
        assertThat(c.allows(EOG)).isTrue();
        assertThat(c.allows(id("0"))).isTrue();
        assertThat(c.allows(id("."))).isFalse(); // integers have no fraction
        c.accept(EOG);
        assertThat(c.complete()).isTrue();
    }

    @Test
    void numbersHaveNoLeadingZeros() {
        Constraint c = constraint("{'type':'number'}");
        c.accept(id("0"));
        assertThat(c.allows(id("0"))).isFalse();
        assertThat(c.allows(id("12"))).isFalse();
        assertThat(c.allows(id("."))).isTrue();
        assertThat(c.allows(id("e"))).isTrue();
        c.accept(id("e"));
        assertThat(c.allows(EOG)).isFalse();
        assertThat(c.allows(id("-"))).isTrue();
        c.accept(id("12"));
        assertThat(c.allows(EOG)).isTrue();
    }

    @Test
    void paddedLogitsAndBitsPastTheVocabularyAreNeverAllowed() {
        Constraint c = constraint("{}");
        float[] logits = new float[TOKENS.size() + 70];
        java.util.Arrays.fill(logits, 1f);
        int allowed = c.mask(logits);
        assertThat(allowed).isPositive();
        for (int i = TOKENS.size(); i < logits.length; i++) assertThat(logits[i]).isEqualTo(Float.NEGATIVE_INFINITY);
        long[] bits = new long[(TOKENS.size() + 63) / 64 + 2];
        java.util.Arrays.fill(bits, -1L);
        assertThat(c.fillAllowed(bits)).isEqualTo(allowed);
        for (int t = TOKENS.size(); t < bits.length * 64; t++) assertThat(bits[t >> 6] >>> t & 1).isZero();
        assertThatThrownBy(() -> c.mask(new float[TOKENS.size() - 1])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void acceptingADisallowedTokenFails() {
        Constraint c = constraint("{'type':'object','properties':{'a':{'type':'integer'}},'required':['a']}");
        assertThatThrownBy(() -> c.accept(id("["))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> c.accept(1)).as("special tokens are never allowed").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> c.accept(id(Bytes.of(0xFF)))).isInstanceOf(IllegalStateException.class);
        c.accept(id("{\""));
        c.accept(id("a"));
        c.accept(id("\":"));
        c.accept(id("1"));
        assertThatThrownBy(() -> c.accept(EOG)).isInstanceOf(IllegalStateException.class);
        c.accept(id("}"));
        assertThat(c.complete()).isTrue();
    }

    @Test
    void maskAgreesWithAllowsAtEveryStepOfRandomWalks() {
        String[] schemas = {
                "{'type':'object','properties':{'a':{'type':'string','maxLength':3},'b':{'type':'array','items':{'type':'integer'},'maxItems':2}}}",
                "{'type':'array','items':{'type':['number','null','boolean']}}",
                "{}",
        };
        for (String schema : schemas) {
            for (long seed = 0; seed < 20; seed++) {
                Constraint c = constraint(schema);
                SplittableRandom rnd = new SplittableRandom(seed);
                StringBuilder out = new StringBuilder();
                for (int step = 0; step < 40 && !c.complete(); step++) {
                    long[] bits = new long[(TOKENS.size() + 63) / 64];
                    int count = c.fillAllowed(bits);
                    float[] logits = new float[TOKENS.size()];
                    assertThat(c.mask(logits)).isEqualTo(count);
                    List<Integer> allowed = new ArrayList<>();
                    for (int t = 0; t < TOKENS.size(); t++) {
                        boolean bit = (bits[t >> 6] >>> t & 1) != 0;
                        assertThat(bit).as("token %d at step %d of %s", t, step, schema).isEqualTo(c.allows(t));
                        assertThat(logits[t] == Float.NEGATIVE_INFINITY).isEqualTo(!bit);
                        if (bit) allowed.add(t);
                    }
                    assertThat(allowed).as("stuck after %s in %s", out, schema).isNotEmpty();
                    int t = allowed.get(rnd.nextInt(allowed.size()));
                    c.accept(t);
                    if (TOKENS.get(t) != null) out.append(new String(TOKENS.get(t), StandardCharsets.ISO_8859_1)).append('|');
                }
            }
        }
    }

    @Test
    void aRequestMovesToAFreshRecognizerWhenTheSharedOneIsFull() {
        Grammar g = JsonSchemaCompiler.compile("{}");
        int movedRequests = 0;
        for (long seed = 0; seed < 10; seed++) {
            List<Integer> reference = walk(new Constraint(g, vocab()), seed);
            ConstraintIndex tiny = new ConstraintIndex(g, vocab(), 8); // forces moves within one request
            Constraint c = tiny.newConstraint();
            Recognizer first = c.recognizer();
            List<Integer> moved = walk(c, seed);
            assertThat(moved).isEqualTo(reference);
            if (c.recognizer() != first) movedRequests++;
        }
        assertThat(movedRequests).as("requests that changed recognizer").isPositive();
    }

    // The tokens a seeded random walk chooses (a random allowed token each step, at most 60).
    private static List<Integer> walk(Constraint c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Integer> chosen = new ArrayList<>();
        long[] bits = new long[(TOKENS.size() + 63) / 64];
        for (int step = 0; step < 60 && !c.complete(); step++) {
            c.fillAllowed(bits);
            List<Integer> allowed = new ArrayList<>();
            for (int t = 0; t < TOKENS.size(); t++) if ((bits[t >> 6] >>> t & 1) != 0) allowed.add(t);
            int t = allowed.get(rnd.nextInt(allowed.size()));
            c.accept(t);
            chosen.add(t);
        }
        return chosen;
    }
}
