package dev.gearbox.constrain;

import static dev.gearbox.constrain.Bytes.accepts;
import static dev.gearbox.constrain.Bytes.isPrefix;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The JSON grammar on hand-written byte sequences: what RFC 8259 allows, with bounded whitespace and numbers. */
class JsonGrammarTest {
    static final Grammar VALUE = Grammar.anyJsonValue();
    static final Grammar OBJECT = Grammar.anyJsonObject();

    @ParameterizedTest
    @ValueSource(strings = {"0", "-0", "12", "-12.5", "1e5", "1E+5", "2.5e-10", "0.001", "true", "false", "null",
            "\"\"", "\"a b\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\uD7FF\\uE000\"", "\"é€😀\"",
            "[]", "[ ]", "[1,2]", "[1, 2]", "[\n  1,\n  2\n]", "{}", "{\"a\":1}", "{ \"a\" : [ {}, null ] }",
            "{\"a\":{\"b\":{\"c\":[[\"x\"]]}}}"})
    void acceptsJson(String json) {
        assertThat(accepts(VALUE, json)).as(json).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "1.5.2", "00", "tru", "nul", "True",
            "[1,]", "[,1]", "{\"a\":1,}", "{a:1}", "{'a':1}", "\"\\x41\"", "\"\\u12\"", "\"\\ud800\"", "\"\\uDBFF\"",
            "\"a", "\"tab\there\"", "[1 2]", "{\"a\" 1}", " 1", "1 ", "[  1]", "[\n                      1]",
            "12345678901234567", "1.12345678901234567", "1e123"})
    void rejectsNonJsonAndUnboundedForms(String text) {
        assertThat(accepts(VALUE, text)).as(text).isFalse();
    }

    @Test
    void prefixesStayAliveUntilTheFirstBadByte() {
        assertThat(isPrefix(VALUE, "{\"a\":")).isTrue();
        assertThat(isPrefix(VALUE, "{\"a\": [1, {\"b")).isTrue();
        assertThat(isPrefix(VALUE, "{\"a\"}")).isFalse();
        assertThat(isPrefix(VALUE, "[1,,")).isFalse();
        assertThat(isPrefix(VALUE, "-0")).isTrue();
        assertThat(isPrefix(VALUE, "-01")).isFalse();
        assertThat(isPrefix(VALUE, "\"\\u00")).isTrue();
        assertThat(isPrefix(VALUE, "\"\\ud")).isTrue();
        assertThat(isPrefix(VALUE, "\"\\ud8")).isFalse(); // would be a surrogate
    }

    @Test
    void utf8IsCheckedBytewise() {
        assertThat(accepts(VALUE, Bytes.of('"', 0xC3, 0xA9, '"'))).isTrue(); // é
        assertThat(isPrefix(VALUE, Bytes.of('"', 0xC3))).isTrue(); // half a character is a fine prefix
        assertThat(isPrefix(VALUE, Bytes.of('"', 0xC3, '"'))).isFalse(); // but must be finished
        assertThat(isPrefix(VALUE, Bytes.of('"', 0x80))).isFalse(); // lone continuation byte
        assertThat(isPrefix(VALUE, Bytes.of('"', 0xC0, 0x80))).isFalse(); // overlong NUL
        assertThat(isPrefix(VALUE, Bytes.of('"', 0xED, 0xA0))).isFalse(); // encoded surrogate
        assertThat(isPrefix(VALUE, Bytes.of('"', 0xF4, 0x90))).isFalse(); // above U+10FFFF
        assertThat(accepts(VALUE, Bytes.of('"', 0xF0, 0x9F, 0x98, 0x80, '"'))).isTrue(); // 😀
        assertThat(isPrefix(VALUE, Bytes.of('"', 0xFF))).isFalse();
    }

    @Test
    void whitespaceIsBounded() {
        assertThat(accepts(VALUE, "[\n" + " ".repeat(20) + "1]")).isTrue();
        assertThat(isPrefix(VALUE, "[\n" + " ".repeat(21))).isFalse();
        assertThat(isPrefix(VALUE, "{  ")).isFalse(); // one space, not two
        assertThat(isPrefix(VALUE, "{\"a\": \n")).isFalse();
    }

    @Test
    void anyJsonObjectIsAnObject() {
        assertThat(accepts(OBJECT, "{\"a\":[1,\"x\"]}")).isTrue();
        assertThat(accepts(OBJECT, "[1]")).isFalse();
        assertThat(accepts(OBJECT, "\"x\"")).isFalse();
        assertThat(accepts(OBJECT, "1")).isFalse();
    }
}
