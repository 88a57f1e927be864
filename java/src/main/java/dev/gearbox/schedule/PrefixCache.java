package dev.gearbox.schedule;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.KVCache;
import dev.gearbox.model.Adaptation;
import dev.gearbox.model.ModelConfig;
import dev.gearbox.model.Sequence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tier's prefix cache, as vLLM's automatic prefix caching: the KV cache of prompts already
 * computed, kept in blocks of {@value #BLOCK} positions, each named by a hash of every token up to
 * its end and by the SVF expert it ran with (so a block is only ever reused after the very same
 * prefix under the same weights). A new sequence whose prompt
 * starts with cached blocks gets their keys and values copied in and prefills only the rest: a
 * shared system prompt, earlier chat turns, the n choices of one request, a retry. Blocks are
 * immutable; the least recently used are evicted when the tier's KV budget needs the room (the
 * cache lives in the budget's unreserved room), a chain from its end first.
 *
 * <p>Copying a block costs a few memory passes over its keys and values; recomputing it costs the
 * model's whole forward pass over 16 tokens, orders of magnitude more. Thread-safe.
 */
final class PrefixCache {
    static final int BLOCK = 16;

    /** {@code adaptation}: the expert the block was computed with (null: base weights); other experts' keys differ. */
    private record Block(long parent, int[] tokens, Adaptation adaptation, KVCache kv) {}

    private final Backend be;
    private final ModelConfig c;
    private final long blockBytes;
    private final LinkedHashMap<Long, Block> blocks = new LinkedHashMap<>(64, 0.75f, true);   // access order: LRU first
    private long hits, lookups, reusedTokens;

    PrefixCache(Backend be, ModelConfig c) {
        this.be = be;
        this.c = c;
        this.blockBytes = 2L * c.layers() * BLOCK * c.kvDim() * Float.BYTES;
    }

    /** Bytes one block holds (what it counts against the tier's KV budget). */
    long blockBytes() { return blockBytes; }

    /**
     * Copies the longest run of cached whole blocks that starts {@code tokens} into {@code seq}
     * (empty), at most {@code max} tokens, and returns how many positions it filled.
     */
    synchronized int reuse(int[] tokens, int max, Sequence seq) {
        if (seq.position() != 0) throw new IllegalArgumentException("a prefix is copied into an empty sequence");
        lookups++;
        long h = seed(seq.adaptation());
        int filled = 0;
        List<Long> used = new ArrayList<>();
        for (int start = 0; start + BLOCK <= Math.min(max, tokens.length); start += BLOCK) {
            h = chain(h, tokens, start);
            Block b = blocks.get(h);
            if (b == null || b.adaptation() != seq.adaptation() || !Arrays.equals(b.tokens(), 0, BLOCK, tokens, start, start + BLOCK)) break;
            seq.append(b.kv(), 0, BLOCK);
            filled += BLOCK;
            used.add(h);
        }
        touchFromTheEnd(used);
        if (filled > 0) hits++;
        reusedTokens += filled;
        return filled;
    }

    /**
     * Marks a chain's blocks used, its first block last, so eviction (least recently used first)
     * takes a chain from its end: a chain without its first block is worth nothing.
     */
    private void touchFromTheEnd(List<Long> chain) {
        for (int i = chain.size() - 1; i >= 0; i--) blocks.get(chain.get(i));
    }

    /**
     * Keeps the whole blocks of {@code seq}'s first {@code n} positions (whose tokens are
     * {@code tokens}) that are not cached yet, while {@code room} allows; returns the bytes added.
     */
    synchronized long store(int[] tokens, int n, Sequence seq, long room) {
        long h = seed(seq.adaptation()), added = 0;
        List<Long> chain = new ArrayList<>();
        for (int start = 0; start + BLOCK <= Math.min(n, tokens.length); start += BLOCK) {
            long parent = h;
            h = chain(h, tokens, start);
            if (!blocks.containsKey(h)) {
                if (added + blockBytes > room) break;
                KVCache kv = be.allocateKV(c.layers(), BLOCK, c.kvDim());
                seq.copyTo(start, kv, 0, BLOCK);
                blocks.put(h, new Block(parent, Arrays.copyOfRange(tokens, start, start + BLOCK), seq.adaptation(), kv));
                added += blockBytes;
            }
            chain.add(h);
        }
        touchFromTheEnd(chain);
        return added;
    }

    /** Frees least recently used blocks until at least {@code bytes} are freed (or none is left); returns the bytes freed. */
    synchronized long evict(long bytes) {
        long freed = 0;
        for (Iterator<Map.Entry<Long, Block>> it = blocks.entrySet().iterator(); it.hasNext() && freed < bytes; ) {
            it.next().getValue().kv().close();
            it.remove();
            freed += blockBytes;
        }
        return freed;
    }

    synchronized long bytes() { return blocks.size() * blockBytes; }

    /** {lookups, lookups that reused a block, tokens reused}. */
    synchronized long[] counts() { return new long[] {lookups, hits, reusedTokens}; }

    synchronized void close() {
        for (Block b : blocks.values()) b.kv().close();
        blocks.clear();
    }

    /** Where a chain's hash starts: the adaptation's name, so each expert's blocks form chains of their own. */
    private static long seed(Adaptation a) {
        return a == null ? 0 : a.name().hashCode() * 0xD6E8FEB86659FD93L + 1;
    }

    /** The hash of every token up to the end of the block at {@code start}, from the hash before it. */
    private static long chain(long h, int[] tokens, int start) {
        for (int i = start; i < start + BLOCK; i++) {
            h ^= tokens[i] * 0x9E3779B97F4A7C15L;
            h = Long.rotateLeft(h * 0xBF58476D1CE4E5B9L, 31) + 0x94D049BB133111EBL;
        }
        return h;
    }
}
