package dev.gearbox.constrain;

import java.util.Objects;

/**
 * One request's constrained-decoding state: which tokens may come next so that the output stays a
 * prefix of a sentence of the {@link Grammar}, and whether it may end now.
 * <p>
 * Per decode step an engine either
 * <ol>
 *   <li>samples as usual, then checks the token with {@link #allows} (walks that token's bytes: a few
 *       cached transitions) and only when it is rejected calls {@link #mask} and samples again; or</li>
 *   <li>calls {@link #mask} (or {@link #fillAllowed}) before sampling,</li>
 * </ol>
 * and then {@link #accept}s the chosen token. End-of-generation tokens are allowed exactly when
 * {@link #canEnd()}; after one is accepted nothing more is allowed.
 * <p>
 * One per request and used by one thread at a time; requests made from one {@link ConstraintIndex}
 * share (under a lock) the memoised transitions and masks, so states that recur — inside a long
 * string, between array items, in the next request with the same schema — cost a lookup.
 */
public final class Constraint {
    private final ConstraintIndex index;
    private final TokenVocabulary vocab;
    private Recognizer recognizer; // shared through the index; every use holds its lock
    private Recognizer.State state;
    private boolean ended;
    private final Recognizer.State[] walk; // trie walk: the state at each depth
    private final boolean[] reachedContext; // ... and whether it passed through the context frame

    /** A constraint with its own {@link ConstraintIndex} (nothing shared with other requests). */
    public Constraint(Grammar grammar, TokenVocabulary vocab) {
        this(ConstraintIndex.of(grammar, vocab));
    }

    Constraint(ConstraintIndex index) {
        this.index = index;
        this.vocab = index.vocab;
        this.recognizer = index.recognizer();
        synchronized (recognizer) {
            this.state = recognizer.initial();
        }
        this.walk = new Recognizer.State[vocab.maxDepth + 1];
        this.reachedContext = new boolean[vocab.maxDepth + 1];
    }

    /** Whether {@code token} may be chosen next. */
    public boolean allows(int token) {
        if (ended || token < 0 || token >= vocab.size) return false;
        if (vocab.isEndOfGeneration[token]) return state.accepting;
        byte[] b = vocab.bytes[token];
        if (b == null) return false;
        synchronized (recognizer) {
            return recognizer.walk(state, b) != recognizer.dead;
        }
    }

    /** Moves past {@code token}; an {@link IllegalStateException} if it is not {@link #allows allowed}. */
    public void accept(int token) {
        if (!allows(token)) {
            throw new IllegalStateException("token " + token + " is not allowed by the grammar here"
                    + (ended ? " (generation has ended)" : ""));
        }
        if (vocab.isEndOfGeneration[token]) {
            ended = true;
            return;
        }
        int states;
        synchronized (recognizer) {
            state = recognizer.walk(state, vocab.bytes[token]);
            states = recognizer.stateCount();
        }
        if (states > 2 * index.maxStates) { // move to a fresh recognizer (see ConstraintIndex)
            Recognizer fresh = index.recognizer();
            if (fresh != recognizer) {
                synchronized (fresh) {
                    state = fresh.adopt(state);
                }
                recognizer = fresh;
            }
        }
    }

    /** Whether the output so far is a complete sentence of the grammar (an EOG token is allowed). */
    public boolean canEnd() {
        return !ended && state.accepting;
    }

    /** Whether generation must stop: an EOG token was accepted, or the output is complete and nothing can follow. */
    public boolean complete() {
        return ended || (state.accepting && state.stacks.length == 0);
    }

    /** Whether an end-of-generation token has been accepted. */
    public boolean ended() {
        return ended;
    }

    /**
     * Sets bit {@code t} of {@code bits} (bit {@code t & 63} of word {@code t >> 6}) for every allowed
     * token and clears the others (also any words past the vocabulary, for a model whose output is
     * padded beyond it); {@code bits} needs at least {@code (vocabSize + 63) / 64} words.
     * Returns the number of allowed tokens.
     */
    public int fillAllowed(long[] bits) {
        int words = (vocab.size + 63) >> 6;
        if (bits.length < words) throw new IllegalArgumentException("need " + words + " words, got " + bits.length);
        long[] m = allowedBits();
        System.arraycopy(m, 0, bits, 0, words);
        java.util.Arrays.fill(bits, words, bits.length, 0L);
        int count = 0;
        for (int i = 0; i < words; i++) count += Long.bitCount(m[i]);
        return count;
    }

    /**
     * Sets the logit of every token that is not allowed to negative infinity and returns how many are
     * allowed. {@code logits} may be longer than the vocabulary (models often pad their output
     * matrix, e.g. Qwen3's 151,936 rows for 151,669 tokens): the padding is never allowed. Zero
     * allowed means the vocabulary cannot spell what the grammar needs next (no real byte-level
     * vocabulary does that, as all 256 bytes are tokens); the caller should then stop.
     */
    public int mask(float[] logits) {
        if (logits.length < vocab.size) {
            throw new IllegalArgumentException("logits have " + logits.length + " entries, the vocabulary " + vocab.size);
        }
        java.util.Arrays.fill(logits, vocab.size, logits.length, Float.NEGATIVE_INFINITY);
        long[] m = allowedBits();
        int count = 0;
        for (int w = 0; w < m.length; w++) {
            long word = m[w];
            count += Long.bitCount(word);
            if (word == -1L) continue;
            int base = w << 6;
            int end = Math.min(64, vocab.size - base);
            for (int i = 0; i < end; i++) {
                if ((word >>> i & 1) == 0) logits[base + i] = Float.NEGATIVE_INFINITY;
            }
        }
        return count;
    }

    // The cached (shared, never modified) mask of the current state.
    private long[] allowedBits() {
        if (ended) return new long[(vocab.size + 63) >> 6];
        synchronized (recognizer) {
            if (state.mask != null) return state.mask;
            long[] m = computeMask(state);
            recognizer.cacheMask(state, m);
            return m;
        }
    }

    /**
     * How many top frames a state keeps when its mask is split into a context-independent part
     * (shared by every state with the same top frames, computed once) and the few tokens that run
     * into the context (checked one by one on the real state). Three frames hold a JSON string's
     * interior: the character, the repetition and the closing quote.
     */
    static final int TRUNCATE_DEPTH = 3;

    private long[] computeMask(Recognizer.State s) {
        Recognizer.State t = recognizer.truncate(s, TRUNCATE_DEPTH);
        long[] m;
        if (t == s || t.reachesContext) {
            // Shallow, or the output may already have left the top frames (right after a number,
            // say): nothing to share, and such states allow few tokens anyway.
            m = new long[(vocab.size + 63) >> 6];
            walkTrie(s, m, null);
        } else {
            if (t.independentMask == null) {
                long[] independent = new long[(vocab.size + 63) >> 6];
                GrammarBuilder.IntBuf dependent = new GrammarBuilder.IntBuf();
                walkTrie(t, independent, dependent);
                t.independentMask = independent;
                t.dependentTokens = dependent.toArray();
            }
            m = t.independentMask.clone();
            for (int token : t.dependentTokens) {
                if (recognizer.walk(s, vocab.bytes[token]) != recognizer.dead) m[token >> 6] |= 1L << token;
            }
        }
        if (s.accepting) for (int e : vocab.endOfGeneration) m[e >> 6] |= 1L << e;
        return m;
    }

    /**
     * Preorder walk of the token trie from {@code start}: the state at depth d is the state after the
     * node's first d bytes; a node whose byte is rejected is skipped with its whole subtree. With
     * {@code dependent} given, {@code start} is a truncated state: a subtree rejected after a point
     * where the walk reached the context frame is undecided, and its tokens go to {@code dependent}.
     */
    private void walkTrie(Recognizer.State start, long[] m, GrammarBuilder.IntBuf dependent) {
        Recognizer.State[] at = walk;
        boolean[] undecided = reachedContext;
        at[0] = start;
        undecided[0] = start.reachesContext;
        byte[] nodeByte = vocab.nodeByte;
        int[] depth = vocab.nodeDepth, skip = vocab.subtreeEnd, runs = vocab.nodeTokens, sorted = vocab.sortedTokens;
        boolean[] plain = vocab.plainSubtree;
        Recognizer.State dead = recognizer.dead;
        int n = nodeByte.length;
        int i = 0;
        while (i < n) {
            int d = depth[i];
            Recognizer.State p = at[d - 1];
            if (plain[i] && recognizer.loopsOnPlain(p)) {
                // Plain text all the way down, in a state that plain text never leaves: all allowed.
                for (int k = runs[i], e = runs[skip[i]]; k < e; k++) {
                    int t = sorted[k];
                    m[t >> 6] |= 1L << t;
                }
                i = skip[i];
                continue;
            }
            Recognizer.State s = recognizer.step(p, nodeByte[i] & 0xFF);
            if (s == dead) {
                if (dependent != null && undecided[d - 1]) {
                    for (int k = runs[i], e = runs[skip[i]]; k < e; k++) dependent.add(sorted[k]);
                }
                i = skip[i];
                continue;
            }
            at[d] = s;
            undecided[d] = undecided[d - 1] || s.reachesContext;
            for (int k = runs[i], e = runs[i + 1]; k < e; k++) {
                int t = sorted[k];
                m[t >> 6] |= 1L << t;
            }
            i++;
        }
    }

    /** Feeds raw bytes (e.g. a forced prefix); false, with the state unchanged, if they are rejected. */
    boolean acceptBytes(byte[] bytes) {
        synchronized (recognizer) {
            Recognizer.State s = recognizer.walk(state, bytes);
            if (s == recognizer.dead) return false;
            state = s;
            return true;
        }
    }

    /** The allowed-token bits of the current state computed afresh (no mask cache), for benchmarks. */
    long[] computeMaskUncached() {
        synchronized (recognizer) {
            return computeMask(state);
        }
    }

    /** The same by a plain trie walk of the whole state, without the truncation split, for tests and benchmarks. */
    long[] computeMaskPlain() {
        long[] m = new long[(vocab.size + 63) >> 6];
        synchronized (recognizer) {
            walkTrie(state, m, null);
        }
        if (state.accepting) for (int e : vocab.endOfGeneration) m[e >> 6] |= 1L << e;
        return m;
    }

    Recognizer recognizer() {
        return recognizer;
    }

    int statesBuilt() {
        synchronized (recognizer) {
            return recognizer.stateCount();
        }
    }
}
