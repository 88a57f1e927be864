package dev.gearbox.constrain;

import static dev.gearbox.constrain.Bytes.accepts;
import static dev.gearbox.constrain.Bytes.isPrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** GBNF grammars (llama.cpp's notation) parsed and run on hand-written inputs. */
class GbnfParserTest {

    // The shape of llama.cpp's grammars/json.gbnf, written for this test: rules spread over lines,
    // groups, classes with escapes and negation, bounded repetition, comments.
    static final String JSON_GBNF = """
            root   ::= object
            value  ::= object | array | string | number | ("true" | "false" | "null") ws

            object ::=
              "{" ws (
                        string ":" ws value
                ("," ws string ":" ws value)*
              )? "}" ws

            array  ::=
              "[" ws (
                        value
                ("," ws value)*
              )? "]" ws

            string ::=
              "\\"" (
                [^"\\\\\\x7F\\x00-\\x1F] |
                "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
              )* "\\"" ws

            number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

            # Optional space: limited to a newline and 20 units of indentation
            ws ::= | " " | "\\n" [ \\t]{0,20}
            """;

    @Test
    void jsonShapedGrammar() {
        Grammar g = GbnfParser.parse(JSON_GBNF);
        assertThat(accepts(g, "{}")).isTrue();
        assertThat(accepts(g, "{\"a\": [1, 2.5, -3e4, \"x\\n\\u00e9\", true, null, {}]} ")).isTrue();
        assertThat(accepts(g, "{\"é\": \"ü😀\"}")).isTrue();
        assertThat(accepts(g, "[1]")).isFalse(); // root is an object
        assertThat(isPrefix(g, "{\"a\" :")).isTrue(); // string ends with ws
        assertThat(isPrefix(g, "{\"a\"  :")).isFalse(); // but ws is one space at most
        assertThat(isPrefix(g, "{\"a\":\"\u007F")).isFalse(); // DEL is excluded
        assertThat(isPrefix(g, "{\n" + " ".repeat(21))).isFalse();
    }

    @Test
    void arithmetic() {
        Grammar g = GbnfParser.parse("""
                root ::= expr
                expr ::= term (("+" | "-") term)*
                term ::= factor (("*" | "/") factor)*
                factor ::= [0-9]+ | "(" expr ")"
                """);
        assertThat(accepts(g, "1+2*(3-4)/5")).isTrue();
        assertThat(accepts(g, "((7))")).isTrue();
        assertThat(accepts(g, "1+")).isFalse();
        assertThat(isPrefix(g, "1+*")).isFalse();
        assertThat(accepts(g, "(1")).isFalse();
    }

    @Test
    void repetitionsAndClasses() {
        Grammar g = GbnfParser.parse("root ::= [a-c]{2,3} \"-\" [^a-z]{1,} \"!\"? .");
        assertThat(accepts(g, "ab-X!z")).isTrue();
        assertThat(accepts(g, "abc-12é")).isTrue(); // '.' is any character, é is two bytes
        assertThat(accepts(g, "a-X!z")).isFalse();
        assertThat(accepts(g, "abca-X!z")).isFalse();
        assertThat(accepts(g, "ab--")).isFalse(); // the second '-' is [^a-z]; '.' still needs a character
        assertThat(accepts(g, "ab---")).isTrue();
        assertThat(accepts(g, "ab-x!z")).isFalse();
        Grammar exact = GbnfParser.parse("root ::= \"\\x41\\u00e9\\U0001F600\"{2}");
        assertThat(accepts(exact, "Aé😀Aé😀")).isTrue();
        assertThat(accepts(exact, "Aé😀")).isFalse();
    }

    @Test
    void badGrammarsAreReported() {
        assertThatThrownBy(() -> GbnfParser.parse("root ::= foo")).isInstanceOf(GrammarException.class).hasMessageContaining("foo");
        assertThatThrownBy(() -> GbnfParser.parse("expr ::= \"a\"")).hasMessageContaining("root");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= root \"a\" | \"b\"")).hasMessageContaining("left recursion");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= x root\nx ::= \"\"?")).hasMessageContaining("left recursion");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= \"abc")).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= [a-")).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= (\"a\"")).hasMessageContaining("')'");
        assertThatThrownBy(() -> GbnfParser.parse("root \"a\"")).hasMessageContaining("::=");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= \"a\"{3,1}")).hasMessageContaining("max < min");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= \"a\"\nroot ::= \"b\"")).hasMessageContaining("twice");
        assertThatThrownBy(() -> GbnfParser.parse("root ::= \"\\q\"")).hasMessageContaining("escape");
    }

    @Test
    void gbnfDrivesAConstraint() {
        Constraint c = new Constraint(GbnfParser.parse("root ::= (\"yes\" | \"no\") \"!\"?"), ConstraintTest.vocab());
        assertThat(c.allows(ConstraintTest.id("n"))).isTrue();
        assertThat(c.allows(ConstraintTest.id("a"))).isFalse();
        c.accept(ConstraintTest.id("n"));
        assertThat(c.allows(ConstraintTest.EOG)).isFalse();
        c.accept(ConstraintTest.id("o"));
        assertThat(c.canEnd()).isTrue();
        assertThat(c.complete()).isFalse(); // "!" may follow
        c.accept(ConstraintTest.id("!"));
        assertThat(c.complete()).isTrue();
    }
}
