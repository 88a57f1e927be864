package dev.gearbox.constrain;

import java.util.Arrays;

/**
 * A context-free grammar over bytes, flat and immutable, ready for the recognizer: every rule is a
 * list of alternatives, every alternative a sequence of elements, and an element either a byte set
 * (a terminal: one byte out of up to 256) or a reference to a rule. Built by {@link GrammarBuilder}
 * from {@link GbnfParser}, {@link JsonSchemaCompiler} or the factories here. Thread-safe.
 * <p>
 * Layout: {@link #code} holds all alternatives back to back, each ended by {@link #END}; an element
 * {@code e >= 0} is terminal {@code e >> 1} when even and rule {@code e >> 1} when odd. A position
 * in {@code code} is what the recognizer keeps on its stacks.
 */
public final class Grammar {
    static final int END = -1;
    /** The last element of {@link #code}: a frame at this position stands for an unknown rest of the stack. */
    static final int CONTEXT = -2;

    final int[] code;
    /** Start positions in {@link #code} of each rule's alternatives. */
    final int[][] alternatives;
    /** Terminal t accepts byte b when bit {@code b & 63} of {@code sets[4 * t + (b >> 6)]} is set. */
    final long[] sets;
    final String[] names;
    final int root;
    final int contextPos;

    Grammar(int[] code, int[][] alternatives, long[] sets, String[] names, int root) {
        this.code = code;
        this.contextPos = code.length - 1;
        this.alternatives = alternatives;
        this.sets = sets;
        this.names = names;
        this.root = root;
    }

    /** Any JSON object (OpenAI's {@code response_format: json_object}), with the bounded whitespace of {@link JsonRules}. */
    public static Grammar anyJsonObject() {
        return Json.OBJECT;
    }

    /** Any JSON value. */
    public static Grammar anyJsonValue() {
        return Json.VALUE;
    }

    // Built once, on first use (grammars are immutable).
    private static final class Json {
        static final Grammar OBJECT = json(JsonRules.OBJECT);
        static final Grammar VALUE = json(JsonRules.VALUE);

        private static Grammar json(String top) {
            GrammarBuilder b = new GrammarBuilder();
            JsonRules.defineAnyValue(b);
            b.rule("root", Expr.ref(top));
            return b.build("root");
        }
    }

    public int ruleCount() {
        return names.length;
    }

    public String rootName() {
        return names[root];
    }

    static boolean isTerminal(int e) {
        return e >= 0 && (e & 1) == 0;
    }

    static boolean isRef(int e) {
        return e >= 0 && (e & 1) == 1;
    }

    boolean terminalAccepts(int e, int b) {
        return (sets[4 * (e >> 1) + (b >> 6)] >>> (b & 63) & 1) != 0;
    }

    /** The grammar in a GBNF-like notation with byte ranges, for debugging and error messages. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < names.length; r++) {
            sb.append(names[r]).append(" ::=");
            int[] starts = alternatives[r];
            for (int a = 0; a < starts.length; a++) {
                if (a > 0) sb.append(" |");
                for (int p = starts[a]; code[p] != END; p++) {
                    int e = code[p];
                    sb.append(' ');
                    if (isRef(e)) sb.append(names[e >> 1]);
                    else appendSet(sb, e >> 1);
                }
                if (code[starts[a]] == END) sb.append(" \"\"");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private void appendSet(StringBuilder sb, int t) {
        sb.append('[');
        int b = 0;
        while (b < 256) {
            if (!terminalAccepts(t << 1, b)) { b++; continue; }
            int e = b;
            while (e + 1 < 256 && terminalAccepts(t << 1, e + 1)) e++;
            appendByte(sb, b);
            if (e > b) sb.append('-');
            if (e > b) appendByte(sb, e);
            b = e + 1;
        }
        sb.append(']');
    }

    private static void appendByte(StringBuilder sb, int b) {
        if (b > 0x20 && b < 0x7F && b != '\\' && b != ']' && b != '-' && b != '^') sb.append((char) b);
        else sb.append(String.format("\\x%02X", b));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Grammar g && g.root == root && Arrays.equals(g.code, code) && Arrays.equals(g.sets, sets)
                && Arrays.deepEquals(g.alternatives, alternatives);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(code) * 31 + Arrays.hashCode(sets);
    }
}
