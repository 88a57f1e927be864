package dev.gearbox.constrain;

import dev.gearbox.tokenizer.TokenType;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tokenizer.VocabTokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tokenizer's vocabulary as constrained decoding needs it, built once per tokenizer and shared by
 * every request and thread (immutable):
 * <ul>
 *   <li>each token's bytes ({@link Tokenizer#tokenBytes}); only ordinary tokens can be chosen under a
 *       constraint: control, special, unused and empty tokens never are, and end-of-generation tokens
 *       only when the grammar accepts the output as complete;</li>
 *   <li>a byte trie of the choosable tokens, laid out in preorder (which is the tokens' sorted order),
 *       so that a mask walks shared prefixes once and skips a dead subtree with one jump.</li>
 * </ul>
 */
public final class TokenVocabulary {
    final int size;
    /** Bytes of each choosable token; null for tokens that are never allowed (and for EOG tokens). */
    final byte[][] bytes;
    final int[] endOfGeneration;
    final boolean[] isEndOfGeneration;

    // The trie, one entry per node in preorder (the root is implicit, depth 0).
    final byte[] nodeByte;
    final int[] nodeDepth;
    /** Index of the first node after this node's subtree. */
    final int[] subtreeEnd;
    /** Tokens ending at node n: sortedTokens[nodeTokens[n], nodeTokens[n + 1]). */
    final int[] nodeTokens;
    final int[] sortedTokens;
    final int maxDepth;
    /**
     * Node n and everything below it are {@link #isPlain plain} bytes: in a state that loops on every
     * plain byte (a JSON string's interior), all tokens of the subtree are allowed without a walk.
     */
    final boolean[] plainSubtree;

    private TokenVocabulary(int size, byte[][] bytes, boolean[] eog) {
        this.size = size;
        this.bytes = bytes;
        this.isEndOfGeneration = eog;
        int eogCount = 0;
        for (boolean e : eog) if (e) eogCount++;
        endOfGeneration = new int[eogCount];
        for (int i = 0, k = 0; i < size; i++) if (eog[i]) endOfGeneration[k++] = i;

        Integer[] order = new Integer[size];
        int n = 0;
        for (int i = 0; i < size; i++) if (bytes[i] != null) order[n++] = i;
        order = Arrays.copyOf(order, n);
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        sortedTokens = new int[n];
        for (int i = 0; i < n; i++) sortedTokens[i] = order[i];

        // Nodes appear in preorder as the sorted tokens are read: token i adds one node per byte
        // past its longest common prefix with token i-1.
        int total = 0, depthMax = 0;
        byte[] prev = new byte[0];
        for (int t : sortedTokens) {
            byte[] cur = bytes[t];
            total += cur.length - commonPrefix(prev, cur);
            depthMax = Math.max(depthMax, cur.length);
            prev = cur;
        }
        maxDepth = depthMax;
        nodeByte = new byte[total];
        nodeDepth = new int[total];
        subtreeEnd = new int[total];
        nodeTokens = new int[total + 1];
        int[] path = new int[depthMax + 1]; // node index at each depth of the current path
        int[] endsAt = new int[n];
        int nodes = 0;
        prev = new byte[0];
        for (int i = 0; i < n; i++) {
            byte[] cur = bytes[sortedTokens[i]];
            int lcp = commonPrefix(prev, cur);
            for (int d = prev.length; d > lcp; d--) subtreeEnd[path[d]] = nodes; // close the old branch
            for (int d = lcp + 1; d <= cur.length; d++) {
                nodeByte[nodes] = cur[d - 1];
                nodeDepth[nodes] = d;
                path[d] = nodes++;
            }
            endsAt[i] = path[cur.length]; // equal bytes (duplicate tokens) end at the same node
            prev = cur;
        }
        for (int d = prev.length; d >= 1; d--) subtreeEnd[path[d]] = nodes;
        // endsAt is non-decreasing (preorder = sorted order), so each node's tokens form one run.
        int k = 0;
        for (int node = 0; node < total; node++) {
            nodeTokens[node] = k;
            while (k < n && endsAt[k] == node) k++;
        }
        nodeTokens[total] = n;
        int[] notPlainBefore = new int[total + 1]; // prefix counts of non-plain nodes
        for (int i = 0; i < total; i++) notPlainBefore[i + 1] = notPlainBefore[i] + (isPlain(nodeByte[i] & 0xFF) ? 0 : 1);
        plainSubtree = new boolean[total];
        for (int i = 0; i < total; i++) plainSubtree[i] = notPlainBefore[subtreeEnd[i]] == notPlainBefore[i];
    }

    /** Printable ASCII other than the quote and the backslash: what most text tokens are made of. */
    static boolean isPlain(int b) {
        return b >= 0x20 && b < 0x7F && b != '"' && b != '\\';
    }

    private static int commonPrefix(byte[] a, byte[] b) {
        int m = Arrays.mismatch(a, b);
        return m < 0 ? a.length : m;
    }

    /** The vocabulary of {@code tokenizer}. Costs one pass over the vocabulary and a sort; build it once. */
    public static TokenVocabulary of(Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        int n = tokenizer.vocabSize();
        byte[][] bytes = new byte[n][];
        boolean[] eog = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (tokenizer.isEndOfGeneration(i)) {
                eog[i] = true;
                continue;
            }
            if (tokenizer.isControl(i)) continue;
            if (tokenizer instanceof VocabTokenizer v) {
                TokenType type = v.tokenType(i);
                if (type != TokenType.NORMAL && type != TokenType.BYTE) continue; // special, unused, unknown
            }
            byte[] b = tokenizer.tokenBytes(i);
            if (b != null && b.length > 0) bytes[i] = b;
        }
        return new TokenVocabulary(n, bytes, eog);
    }

    /** A vocabulary from raw token bytes, for tests and tools: null entries are never allowed. */
    static TokenVocabulary ofBytes(byte[][] tokenBytes, int... endOfGenerationIds) {
        boolean[] eog = new boolean[tokenBytes.length];
        byte[][] copy = tokenBytes.clone();
        for (int id : endOfGenerationIds) {
            eog[id] = true;
            copy[id] = null;
        }
        for (int i = 0; i < copy.length; i++) if (copy[i] != null && copy[i].length == 0) copy[i] = null;
        return new TokenVocabulary(tokenBytes.length, copy, eog);
    }

    public int size() {
        return size;
    }

    /** Whether a constraint can ever allow {@code token} as a non-final token. */
    public boolean isChoosable(int token) {
        return token >= 0 && token < size && bytes[token] != null;
    }

    public boolean isEndOfGeneration(int token) {
        return token >= 0 && token < size && isEndOfGeneration[token];
    }

    int nodeCount() {
        return nodeByte.length;
    }
}
