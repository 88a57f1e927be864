package dev.gearbox.constrain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects named rules as {@link Expr} trees and lowers them to a flat byte-level {@link Grammar}:
 * <ul>
 *   <li>a literal becomes one single-byte terminal per byte;</li>
 *   <li>a character class becomes one terminal for its ASCII part plus one alternative per UTF-8
 *       byte-range sequence of its other code points ({@link Utf8Ranges});</li>
 *   <li>a nested alternation becomes a helper rule;</li>
 *   <li>{@code x{m,n}} becomes m copies of x followed by a chain of helper rules
 *       {@code o_k ::= x o_(k-1) | ""}, and {@code x*} becomes {@code s ::= x s | ""} — right
 *       recursion, which the recognizer runs as a loop because it drops finished frames before
 *       pushing (tail calls do not grow the stack).</li>
 * </ul>
 * Left recursion (also through rules that can match the empty string) is rejected: a top-down
 * recognizer would expand it forever.
 */
final class GrammarBuilder {
    private final Map<String, Expr> rules = new LinkedHashMap<>();

    // Lowering state.
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<List<int[]>> bodies = new ArrayList<>();
    private final Map<String, Integer> terminals = new HashMap<>();
    private final List<long[]> sets = new ArrayList<>();
    private final Map<String, Integer> helperCache = new HashMap<>();

    /** Defines (or redefines) a rule. */
    GrammarBuilder rule(String name, Expr body) {
        rules.put(name, body);
        return this;
    }

    boolean has(String name) {
        return rules.containsKey(name);
    }

    Grammar build(String rootName) {
        if (!rules.containsKey(rootName)) throw new GrammarException("the grammar has no rule '" + rootName + "'");
        for (String name : rules.keySet()) idOf(name);
        for (Map.Entry<String, Expr> e : rules.entrySet()) {
            bodies.set(ids.get(e.getKey()), alternativesOf(e.getValue()));
        }
        for (int r = 0; r < bodies.size(); r++) {
            if (bodies.get(r) == null) throw new GrammarException("rule '" + names.get(r) + "' is used but never defined");
        }
        checkNoLeftRecursion();
        return flatten(ids.get(rootName));
    }

    private int idOf(String name) {
        Integer id = ids.get(name);
        if (id != null) return id;
        if (!rules.containsKey(name)) throw new GrammarException("rule '" + name + "' is used but never defined");
        return newRule(name);
    }

    private int newRule(String name) {
        int id = names.size();
        ids.put(name, id);
        names.add(name);
        bodies.add(null);
        return id;
    }

    private int helper(String base, List<int[]> alts) {
        int id = newHelper(base);
        bodies.set(id, alts);
        return id;
    }

    // Helper rules are not entered in ids, so that their names can never shadow a user's rule.
    private int newHelper(String base) {
        int id = names.size();
        names.add(base + "-" + id);
        bodies.add(null);
        return id;
    }

    // ---- lowering ----

    private List<int[]> alternativesOf(Expr e) {
        List<int[]> out = new ArrayList<>();
        if (e instanceof Expr.Alt a) {
            for (Expr o : a.options()) out.add(sequenceOf(o));
        } else {
            out.add(sequenceOf(e));
        }
        return out;
    }

    private int[] sequenceOf(Expr e) {
        IntBuf buf = new IntBuf();
        lower(e, buf);
        return buf.toArray();
    }

    private void lower(Expr e, IntBuf out) {
        switch (e) {
            case Expr.Literal l -> {
                for (byte b : l.bytes()) out.add(terminal(single(b & 0xFF)));
            }
            case Expr.CharClass c -> out.add(charClass(c));
            case Expr.Ref r -> out.add(ref(idOf(r.name())));
            case Expr.Seq s -> {
                for (Expr i : s.items()) lower(i, out);
            }
            case Expr.Alt a -> {
                if (a.options().size() == 1) {
                    lower(a.options().getFirst(), out);
                } else if (a.options().isEmpty()) {
                    throw new GrammarException("an alternation needs at least one option");
                } else {
                    out.add(ref(helper("alt", alternativesOf(a))));
                }
            }
            case Expr.Repeat r -> lowerRepeat(r, out);
        }
    }

    private void lowerRepeat(Expr.Repeat r, IntBuf out) {
        if (r.min() < 0 || (r.max() >= 0 && r.max() < r.min())) {
            throw new GrammarException("bad repetition {" + r.min() + "," + r.max() + "}");
        }
        int[] item = sequenceOf(r.item());
        int x;
        if (item.length == 1) {
            x = item[0];
        } else {
            List<int[]> one = new ArrayList<>();
            one.add(item);
            x = ref(helper("item", one));
        }
        for (int i = 0; i < r.min(); i++) out.add(x);
        if (r.max() < 0) {
            out.add(ref(star(x)));
        } else if (r.max() > r.min()) {
            out.add(ref(optionalChain(x, r.max() - r.min())));
        }
    }

    // s ::= x s | ""
    private int star(int x) {
        String key = "star " + x;
        Integer cached = helperCache.get(key);
        if (cached != null) return cached;
        int id = newHelper("star");
        helperCache.put(key, id);
        List<int[]> alts = new ArrayList<>();
        alts.add(new int[] {x, ref(id)});
        alts.add(new int[0]);
        bodies.set(id, alts);
        return id;
    }

    // o_k ::= x o_(k-1) | ""   (o_1 ::= x | ""): up to k more copies of x. Shared per (x, k).
    private int optionalChain(int x, int k) {
        int prev = -1;
        for (int i = 1; i <= k; i++) {
            String key = "opt " + x + " " + i;
            Integer cached = helperCache.get(key);
            if (cached != null) {
                prev = cached;
                continue;
            }
            List<int[]> alts = new ArrayList<>();
            alts.add(prev < 0 ? new int[] {x} : new int[] {x, ref(prev)});
            alts.add(new int[0]);
            int id = helper("rep", alts);
            helperCache.put(key, id);
            prev = id;
        }
        return prev;
    }

    private int charClass(Expr.CharClass c) {
        int[] cps = Utf8Ranges.normalise(c.ranges(), c.negated());
        String key = "class " + Arrays.toString(cps);
        Integer cached = helperCache.get(key);
        if (cached != null) return cached;
        if (cps.length == 0) throw new GrammarException("a character class matches no character");
        long[] ascii = new long[4];
        List<int[]> multi = new ArrayList<>();
        for (int[] seq : Utf8Ranges.sequences(cps)) {
            if (seq.length == 2) setRange(ascii, seq[0], seq[1]);
            else multi.add(seq);
        }
        int element;
        if (multi.isEmpty()) {
            element = terminal(ascii);
        } else {
            List<int[]> alts = new ArrayList<>();
            if (!isEmpty(ascii)) alts.add(new int[] {terminal(ascii)});
            for (int[] seq : multi) {
                int[] elems = new int[seq.length / 2];
                for (int i = 0; i < elems.length; i++) {
                    long[] s = new long[4];
                    setRange(s, seq[2 * i], seq[2 * i + 1]);
                    elems[i] = terminal(s);
                }
                alts.add(elems);
            }
            element = ref(helper("char", alts));
        }
        helperCache.put(key, element);
        return element;
    }

    private static long[] single(int b) {
        long[] s = new long[4];
        s[b >> 6] |= 1L << (b & 63);
        return s;
    }

    private static void setRange(long[] s, int lo, int hi) {
        for (int b = lo; b <= hi; b++) s[b >> 6] |= 1L << (b & 63);
    }

    private static boolean isEmpty(long[] s) {
        return (s[0] | s[1] | s[2] | s[3]) == 0;
    }

    private int terminal(long[] set) {
        String key = Arrays.toString(set);
        Integer t = terminals.get(key);
        if (t == null) {
            t = sets.size();
            sets.add(set);
            terminals.put(key, t);
        }
        return t << 1;
    }

    private static int ref(int rule) {
        return rule << 1 | 1;
    }

    // ---- checks and layout ----

    private void checkNoLeftRecursion() {
        int n = bodies.size();
        boolean[] nullable = new boolean[n];
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int r = 0; r < n; r++) {
                if (nullable[r]) continue;
                for (int[] alt : bodies.get(r)) {
                    if (allNullable(alt, alt.length, nullable)) {
                        nullable[r] = true;
                        changed = true;
                        break;
                    }
                }
            }
        }
        // Edges r -> s where s can start r's match with nothing consumed before it.
        List<List<Integer>> left = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            List<Integer> edges = new ArrayList<>();
            for (int[] alt : bodies.get(r)) {
                for (int e : alt) {
                    if (!Grammar.isRef(e)) break;
                    edges.add(e >> 1);
                    if (!nullable[e >> 1]) break;
                }
            }
            left.add(edges);
        }
        int[] mark = new int[n]; // 0 new, 1 on the path, 2 done
        for (int r = 0; r < n; r++) if (mark[r] == 0) visit(r, left, mark, new ArrayList<>());
    }

    private void visit(int r, List<List<Integer>> left, int[] mark, List<Integer> path) {
        mark[r] = 1;
        path.add(r);
        for (int s : left.get(r)) {
            if (mark[s] == 1) {
                List<String> cycle = new ArrayList<>();
                for (int i = path.indexOf(s); i < path.size(); i++) cycle.add(names.get(path.get(i)));
                cycle.add(names.get(s));
                throw new GrammarException("left recursion is not supported: " + String.join(" -> ", cycle));
            }
            if (mark[s] == 0) visit(s, left, mark, path);
        }
        path.removeLast();
        mark[r] = 2;
    }

    private static boolean allNullable(int[] alt, int upTo, boolean[] nullable) {
        for (int i = 0; i < upTo; i++) {
            int e = alt[i];
            if (!Grammar.isRef(e) || !nullable[e >> 1]) return false;
        }
        return true;
    }

    private Grammar flatten(int root) {
        IntBuf code = new IntBuf();
        int[][] alts = new int[bodies.size()][];
        for (int r = 0; r < bodies.size(); r++) {
            List<int[]> body = bodies.get(r);
            alts[r] = new int[body.size()];
            for (int a = 0; a < body.size(); a++) {
                alts[r][a] = code.size();
                for (int e : body.get(a)) code.add(e);
                code.add(Grammar.END);
            }
        }
        code.add(Grammar.CONTEXT); // the recognizer's stand-in for "whatever lies below" (see Recognizer#truncate)
        long[] flatSets = new long[4 * sets.size()];
        for (int t = 0; t < sets.size(); t++) System.arraycopy(sets.get(t), 0, flatSets, 4 * t, 4);
        return new Grammar(code.toArray(), alts, flatSets, names.toArray(String[]::new), root);
    }

    /** A growable int array, to keep lowering free of boxing. */
    static final class IntBuf {
        private int[] a = new int[16];
        private int n;

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
