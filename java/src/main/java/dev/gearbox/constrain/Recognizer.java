package dev.gearbox.constrain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A pushdown recognizer for a {@link Grammar} that is run as a lazily built DFA.
 * <p>
 * A parse state is a set of stacks, as in llama.cpp's grammar sampler: each stack is a chain of
 * grammar positions (the top one a terminal, below it the return addresses of the rules being
 * expanded). Consuming a byte keeps the stacks whose top terminal accepts it, advances them, and
 * expands rule references until every top is a terminal again. Two things make this fast:
 * <ul>
 *   <li>Stack frames and states are hash-consed: a frame is (position, parent frame) and a state is
 *       the sorted set of its stacks, so equal parse states are the same object. Finished frames are
 *       dropped before a rule is pushed, so right recursion ({@code x*}) revisits the same frames
 *       and a JSON string's state after one more character is the very same state.</li>
 *   <li>Each state memoises its transition per byte ({@link State#next}), so walking a token trie
 *       over and over touches mostly cached transitions: one array load per byte.</li>
 * </ul>
 * Not thread-safe: {@link Constraint}s that share one (through a {@link ConstraintIndex}) lock it.
 * Memory grows with the states explored; {@link ConstraintIndex} starts a fresh recognizer past
 * {@link #MAX_STATES}.
 */
final class Recognizer {
    /** One stack frame: a position in {@link Grammar#code} and the frame below it (null at the bottom). */
    static final class Frame {
        final int pos;
        final Frame parent;
        final int id;
        int mark; // visit stamp of the expansion in progress

        Frame(int pos, Frame parent, int id) {
            this.pos = pos;
            this.parent = parent;
            this.id = id;
        }
    }

    /** A parse state: its stacks (tops are terminals) and whether the input so far is a complete match. */
    static final class State {
        final Frame[] stacks;
        final boolean accepting;
        /** One of the stacks is the context frame: the input so far may have finished the known part. */
        final boolean reachesContext;
        final State[] next = new State[256];
        long[] mask; // allowed tokens, cached by the owner
        byte plainLoop; // 0 unknown, 1 every plain byte leads back here, 2 not
        int misses; // transitions asked for before they were computed
        State truncated; // truncate(this, TRUNCATE_DEPTH), cached
        long[] independentMask; // on truncated states: tokens allowed whatever the context
        int[] dependentTokens; // ... and the tokens whose fate depends on it

        State(Frame[] stacks, boolean accepting, boolean reachesContext) {
            this.stacks = stacks;
            this.accepting = accepting;
            this.reachesContext = reachesContext;
        }

        boolean isDead() {
            return stacks.length == 0 && !accepting;
        }
    }

    private record StateKey(int[] ids, boolean accepting) {
        @Override
        public boolean equals(Object o) {
            return o instanceof StateKey k && k.accepting == accepting && Arrays.equals(k.ids, ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids) * 2 + (accepting ? 1 : 0);
        }
    }

    static final int MAX_STATES = 32_768; // each state holds a 256-entry transition table (about 1 KiB)

    final Grammar grammar;
    private final int[] code;
    private final Map<Long, Frame> frames = new HashMap<>();
    private final Map<StateKey, State> states = new HashMap<>();
    private int nextFrameId;
    final State dead = new State(new Frame[0], false, false);
    private final Frame context;

    // Scratch of the expansion in progress.
    private final List<Frame> out = new ArrayList<>();
    private boolean outAccepting;
    private int stamp;

    Recognizer(Grammar grammar) {
        this.grammar = grammar;
        this.code = grammar.code;
        Arrays.fill(dead.next, dead);
        this.context = new Frame(grammar.contextPos, null, Integer.MAX_VALUE); // an id no other frame gets
    }

    /** The state before any input. */
    State initial() {
        begin();
        for (int a : grammar.alternatives[grammar.root]) push(a, null);
        return finish();
    }

    /** The state after {@code b} (0..255) from {@code s}; {@link #dead} when no stack accepts it. */
    State step(State s, int b) {
        State n = s.next[b];
        if (n == null) {
            // The first miss computes one transition (a token walk may never come back); a second
            // miss means a trie walk or a busy state, and fills the whole table.
            if (s.stacks.length <= 64 && s.misses++ > 0) {
                fillTransitions(s);
                n = s.next[b];
            } else {
                n = compute(s, b);
                s.next[b] = n;
            }
        }
        return n;
    }

    private final long[] signature = new long[256];

    /**
     * Fills all 256 transitions of {@code s} at once. The next state depends only on which stacks
     * accept the byte, not on the byte itself, so bytes with the same set of accepting stacks share
     * one computation: a JSON string's interior has about a dozen such classes, not 256.
     */
    private void fillTransitions(State s) {
        Frame[] stacks = s.stacks;
        long[] sig = signature;
        for (int b = 0; b < 256; b++) {
            long m = 0;
            for (int i = 0; i < stacks.length; i++) {
                Frame f = stacks[i];
                if (f != context && grammar.terminalAccepts(code[f.pos], b)) m |= 1L << i;
            }
            sig[b] = m;
        }
        for (int b = 0; b < 256; b++) {
            if (s.next[b] != null) continue;
            long m = sig[b];
            State n;
            if (m == 0) {
                n = dead;
            } else {
                begin();
                for (int i = 0; i < stacks.length; i++) {
                    if ((m >>> i & 1) != 0) expand(continuation(stacks[i].pos + 1, stacks[i].parent));
                }
                n = finish();
            }
            for (int c = b; c < 256; c++) if (sig[c] == m && s.next[c] == null) s.next[c] = n;
        }
    }

    private State compute(State s, int b) {
        begin();
        for (Frame f : s.stacks) {
            if (f == context) continue; // matches nothing here: what follows is unknown
            if (grammar.terminalAccepts(code[f.pos], b)) expand(continuation(f.pos + 1, f.parent));
        }
        return finish();
    }

    private void begin() {
        out.clear();
        outAccepting = false;
        stamp++;
    }

    // Where to go after the element before p: the frame itself, or its parent when p ends the alternative.
    private Frame continuation(int p, Frame parent) {
        return code[p] == Grammar.END ? parent : frame(p, parent);
    }

    private void push(int altStart, Frame returnTo) {
        expand(code[altStart] == Grammar.END ? returnTo : frame(altStart, returnTo));
    }

    private void expand(Frame f) {
        if (f == null) {
            outAccepting = true;
            return;
        }
        if (f.mark == stamp) return; // already expanded in this step (also ends empty loops)
        f.mark = stamp;
        int e = code[f.pos];
        if (Grammar.isTerminal(e) || e == Grammar.CONTEXT) {
            out.add(f);
            return;
        }
        Frame returnTo = continuation(f.pos + 1, f.parent);
        for (int a : grammar.alternatives[e >> 1]) push(a, returnTo);
    }

    private State finish() {
        if (out.isEmpty() && !outAccepting) return dead;
        out.sort((x, y) -> Integer.compare(x.id, y.id));
        Frame[] stacks = out.toArray(new Frame[0]);
        int[] ids = new int[stacks.length];
        for (int i = 0; i < ids.length; i++) ids[i] = stacks[i].id;
        StateKey key = new StateKey(ids, outAccepting);
        State s = states.get(key);
        if (s == null) {
            boolean reaches = false;
            for (Frame f : stacks) reaches |= f == context;
            s = new State(stacks, outAccepting, reaches);
            states.put(key, s);
        }
        return s;
    }

    private Frame frame(int pos, Frame parent) {
        long key = (long) pos << 32 | (parent == null ? 0xFFFFFFFFL : parent.id & 0xFFFFFFFFL);
        Frame f = frames.get(key);
        if (f == null) {
            f = new Frame(pos, parent, nextFrameId++);
            frames.put(key, f);
        }
        return f;
    }

    /**
     * {@code s} with every stack cut to its top {@code depth} frames and the rest replaced by the
     * context frame. Many states share one truncation — a JSON string's interior is the same three
     * frames whichever property the string belongs to — so work done on it (the context-independent
     * part of a mask) is shared too. Exact: a walk that never pops into the context frame runs the
     * same in {@code s}; one that does is undecided and must be rechecked on {@code s}.
     */
    State truncate(State s, int depth) {
        if (s.truncated != null) return s.truncated;
        begin();
        for (Frame f : s.stacks) {
            Frame t = cut(f, depth);
            if (t.mark != stamp) { // stacks that agree on their top frames become one
                t.mark = stamp;
                out.add(t);
            }
        }
        outAccepting = s.accepting;
        State t = finish();
        s.truncated = t;
        return t;
    }

    private Frame cut(Frame f, int depth) {
        if (f == null) return null;
        if (depth == 0) return context;
        Frame parent = cut(f.parent, depth - 1);
        return parent == f.parent ? f : frame(f.pos, parent);
    }

    /** Whether every {@link TokenVocabulary#isPlain plain} byte leads from {@code s} back to {@code s}. */
    boolean loopsOnPlain(State s) {
        if (s.plainLoop == 0) {
            boolean loops = s != dead;
            for (int b = 0x20; b < 0x7F && loops; b++) {
                if (TokenVocabulary.isPlain(b) && step(s, b) != s) loops = false;
            }
            s.plainLoop = (byte) (loops ? 1 : 2);
        }
        return s.plainLoop == 1;
    }

    int stateCount() {
        return states.size();
    }

    /**
     * The state of another recognizer of the same grammar, rebuilt in this one's tables: how a
     * request moves on when the recognizer it shared has grown too large (see {@link ConstraintIndex}).
     * Reads only the foreign frames' immutable fields, so it needs no lock on the other recognizer.
     */
    State adopt(State foreign) {
        begin();
        for (Frame f : foreign.stacks) out.add(rebuild(f));
        outAccepting = foreign.accepting;
        return finish();
    }

    // Masks cached on states, bounded: the oldest is dropped (256 masks of a 152k vocabulary are 4.8 MB).
    static final int MAX_CACHED_MASKS = 256;
    private final State[] masked = new State[MAX_CACHED_MASKS];
    private int maskedNext;

    void cacheMask(State s, long[] mask) {
        State evicted = masked[maskedNext];
        if (evicted != null) evicted.mask = null;
        masked[maskedNext] = s;
        maskedNext = (maskedNext + 1) % MAX_CACHED_MASKS;
        s.mask = mask;
    }

    private Frame rebuild(Frame f) {
        return f == null ? null : frame(f.pos, rebuild(f.parent));
    }

    /** The state after {@code bytes} from {@code s} ({@link #dead} as soon as one byte is rejected). */
    State walk(State s, byte[] bytes) {
        for (byte b : bytes) {
            s = step(s, b & 0xFF);
            if (s == dead) return dead;
        }
        return s;
    }
}
