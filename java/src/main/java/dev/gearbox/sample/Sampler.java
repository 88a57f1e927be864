package dev.gearbox.sample;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Chooses the next token from a vector of logits, applying {@link SamplingParams} in llama.cpp's
 * order: penalties, logit bias, top-k, top-p, min-p, temperature, then a random draw. Temperature 0
 * is greedy (over the penalized and biased logits).
 * <p>
 * One sampler per request: it owns the request's random generator (so the same seed gives the same
 * tokens), the window of recent tokens that the penalties look at and the answer's own token counts
 * ({@link #accept}, {@link #acceptAll}).
 * Not thread-safe.
 */
public final class Sampler {
    private final SamplingParams params;
    private final long seed;
    private final SplittableRandom random;
    private final TokenWindow window;
    /** Occurrences of each token the answer generated ({@link #accept}), for {@link SamplingParams.PenaltyScope#ANSWER}. */
    private final Map<Integer, Integer> answerCounts = new HashMap<>();
    private final int[] biasTokens;
    private final float[] biasValues;

    // Scratch reused across steps so that a 150k vocabulary costs no allocation per token.
    private float[] penalized = new float[0];
    private long[] keys = new long[0];
    private double[] weights = new double[0];

    /** The chosen token and its log-probability under the model's own distribution (softmax of the raw logits). */
    public record Choice(int token, float logprob) {}

    public Sampler(SamplingParams params) {
        this.params = params;
        // A drawn seed is kept non-negative so that it can be given back to the CLI, where -1 means "random".
        this.seed = params.seed() != null ? params.seed() : new SplittableRandom().nextLong() & Long.MAX_VALUE;
        this.random = new SplittableRandom(seed);
        this.window = new TokenWindow(params.repeatLastN());
        biasTokens = new int[params.logitBias().size()];
        biasValues = new float[biasTokens.length];
        int i = 0;
        for (Map.Entry<Integer, Float> e : params.logitBias().entrySet()) {
            biasTokens[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
    }

    public SamplingParams params() {
        return params;
    }

    /** The seed in use: the requested one, or the random one drawn for a request that asked for none. */
    public long seed() {
        return seed;
    }

    /** Records a token the answer generated (now part of the context), for the penalties. */
    public void accept(int token) {
        window.add(token);
        answerCounts.merge(token, 1, Integer::sum);
    }

    /** Records context that is not the answer (the prompt): the window sees it, the answer's counts do not. */
    public void acceptAll(int[] tokens) {
        for (int t : tokens) window.add(t);
    }

    /** Picks the next token. {@code logits} is read, never modified. */
    public Choice sample(float[] logits) {
        if (logits.length == 0) throw new IllegalArgumentException("cannot sample from an empty vocabulary");
        for (int t : biasTokens) {
            if (t >= logits.length) {
                throw new IllegalArgumentException("logit bias token id " + t + " is outside the vocabulary [0, " + logits.length + ")");
            }
        }
        float[] work = applyBias(applyPenalties(logits), logits);
        int token = params.temperature() == 0 ? argmax(work) : draw(work);
        return new Choice(token, logSoftmaxAt(logits, token));
    }

    /** log softmax(logits)[token], computed in double for accuracy over large vocabularies. */
    public static float logSoftmaxAt(float[] logits, int token) {
        return (float) (logits[token] - logSumExp(logits));
    }

    /** log sum exp(logits): {@code logits[i] - logSumExp(logits)} is {@link #logSoftmaxAt}, computed the same way. */
    public static double logSumExp(float[] logits) {
        float max = LogitMath.max(logits);
        return max + Math.log(LogitMath.sumExp(logits, max));
    }

    /** Index of the largest value, the first one on ties. */
    public static int argmax(float[] values) {
        int best = 0;
        float bestValue = values[0];
        for (int i = 1; i < values.length; i++) {
            if (values[i] > bestValue) {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }

    // llama.cpp's penalties: each distinct token of the window once by the repeat penalty, then
    // frequency (per occurrence) and presence (once) subtracted, counted over the window (llama.cpp)
    // or over the answer's own tokens (OpenAI), as the params' penalty scope says.
    private float[] applyPenalties(float[] logits) {
        boolean windowed = params.repeatLastN() != 0 && window.size() > 0;
        boolean repeat = windowed && params.repeatPenalty() != 1f;
        boolean counted = params.presencePenalty() != 0f || params.frequencyPenalty() != 0f;
        boolean answerScope = params.penaltyScope() == SamplingParams.PenaltyScope.ANSWER;
        boolean subtract = counted && (answerScope ? !answerCounts.isEmpty() : windowed);
        if (!repeat && !subtract) return logits;
        float[] out = scratch(logits);
        Map<Integer, Integer> windowCounts = repeat || (subtract && !answerScope) ? window.counts() : Map.of();
        if (repeat) {
            for (int t : windowCounts.keySet()) {
                if (t < 0 || t >= out.length) continue;
                out[t] = out[t] <= 0 ? out[t] * params.repeatPenalty() : out[t] / params.repeatPenalty();
            }
        }
        if (subtract) {
            for (Map.Entry<Integer, Integer> e : (answerScope ? answerCounts : windowCounts).entrySet()) {
                int t = e.getKey();
                if (t < 0 || t >= out.length) continue;
                out[t] -= e.getValue() * params.frequencyPenalty() + params.presencePenalty();
            }
        }
        return out;
    }

    /** OpenAI's logit_bias: the bias added to the token's logit (after the penalties), before any cut or draw. */
    private float[] applyBias(float[] work, float[] logits) {
        if (biasTokens.length == 0) return work;
        if (work == logits) work = scratch(logits);
        for (int i = 0; i < biasTokens.length; i++) work[biasTokens[i]] += biasValues[i];
        return work;
    }

    /** A copy of the logits in reused scratch, for the penalties and the bias to change. */
    private float[] scratch(float[] logits) {
        if (penalized.length != logits.length) penalized = new float[logits.length];
        System.arraycopy(logits, 0, penalized, 0, logits.length);
        return penalized;
    }

    private int draw(float[] logits) {
        int count = cut(logits);
        float max = LogitMath.max(logits);
        // Temperature, softmax over the survivors, and the draw.
        if (weights.length < count) weights = new double[Math.max(count, 64)];
        double invT = 1.0 / params.temperature();
        double top = max; // the largest logit overall, so no exponential overflows
        double total = 0;
        for (int i = 0; i < count; i++) {
            double w = Math.exp((logits[index(keys[i])] - top) * invT);
            weights[i] = w;
            total += w;
        }
        double u = random.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < count; i++) {
            acc += weights[i];
            if (u < acc) return index(keys[i]);
        }
        return index(keys[count - 1]); // rounding left u at the very end
    }

    /**
     * The draw of {@link TokenChoice} (and of the CUDA kernel gbx_sample): the same cuts, then the
     * survivor with the largest {@code logit/T + Gumbel noise}, the noise hashed from (seed, step,
     * index) instead of drawn from this sampler's generator, so that a device and the CPU choose the
     * same token for the same logits.
     */
    int drawGumbel(float[] logits, long seed, int step) {
        int count = cut(logits);
        float invT = 1f / params.temperature();
        float best = Float.NEGATIVE_INFINITY;
        int bestIndex = -1;
        for (int i = 0; i < count; i++) {
            int index = index(keys[i]);
            float x = logits[index];
            if (Float.isNaN(x)) continue;
            float g = x * invT - (float) Math.log(-(float) Math.log(GumbelNoise.uniform(seed, step, index)));
            if (g > best || (g == best && index < bestIndex)) {
                best = g;
                bestIndex = index;
            }
        }
        return bestIndex < 0 ? 0 : bestIndex;
    }

    /** Applies top-k, top-p and min-p: the survivors are keys[0, returned count), most likely first. */
    private int cut(float[] logits) {
        int n = logits.length;
        int k = params.topK() <= 0 || params.topK() >= n ? n : params.topK();
        float max = LogitMath.max(logits);

        // Candidates as packed keys: sorting keys ascending = logits descending, lower index first on ties.
        // Top-p and min-p both keep a prefix of that order, so each path below only sorts what can survive.
        int count;
        double fullSum = Double.NaN; // normalisation over all candidates, needed by top-p
        if (k < n) {
            count = selectTopK(logits, k);
            Arrays.sort(keys, 0, count);
        } else if (params.minP() > 0) {
            // min-p's floor is known before sorting; top-p still normalises over every token.
            float floor = max + (float) Math.log(params.minP());
            ensureKeys(n);
            count = 0;
            for (int i = 0; i < n; i++) {
                if (logits[i] >= floor) keys[count++] = key(logits[i], i);
            }
            if (count == 0) keys[count++] = key(logits[argmax(logits)], argmax(logits)); // only when logits are NaN
            Arrays.sort(keys, 0, count);
            if (params.topP() < 1f) fullSum = LogitMath.sumExp(logits, max);
        } else if (params.topP() < 1f) {
            // Top-p alone: grow a top-m selection until its mass reaches p, instead of sorting everything.
            fullSum = LogitMath.sumExp(logits, max);
            int m = Math.min(n, 1024);
            while (true) {
                count = selectTopK(logits, m);
                Arrays.sort(keys, 0, count);
                if (m == n || massOfSorted(logits, count, max, fullSum) >= params.topP()) break;
                m = (int) Math.min(n, m * 8L);
            }
        } else {
            // Nothing truncates: draw over the whole vocabulary in index order, leaving out tokens a
            // mask banned (-inf: weight 0 either way, and the exponentials of a 150k vocabulary are
            // most of a draw's cost when a grammar allows a few of them).
            ensureKeys(n);
            count = 0;
            for (int i = 0; i < n; i++) if (logits[i] != Float.NEGATIVE_INFINITY) keys[count++] = key(logits[i], i);
            if (count == 0) keys[count++] = key(logits[0], 0);   // everything banned: nothing sensible to draw
        }

        if (params.topP() < 1f) {
            double sum = fullSum;
            if (Double.isNaN(sum)) {
                sum = 0;
                for (int i = 0; i < count; i++) sum += Math.exp(logits[index(keys[i])] - max);
            }
            double cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += Math.exp(logits[index(keys[i])] - max) / sum;
                if (cumulative >= params.topP()) {
                    count = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            float floor = max + (float) Math.log(params.minP());
            int kept = 1;
            while (kept < count && logits[index(keys[kept])] >= floor) kept++;
            count = kept;
        }
        return count;
    }

    private double massOfSorted(float[] logits, int count, float max, double sum) {
        double mass = 0;
        for (int i = 0; i < count; i++) mass += Math.exp(logits[index(keys[i])] - max) / sum;
        return mass;
    }

    /** Puts the keys of the k best tokens into keys[0..k) (unsorted) with a bounded max-heap. */
    private int selectTopK(float[] logits, int k) {
        ensureKeys(k);
        int size = 0;
        float entry = Float.NEGATIVE_INFINITY; // logit of the weakest kept token once the heap is full
        for (int i = 0; i < logits.length; i++) {
            float l = logits[i];
            if (size == k && l < entry) continue; // the common case: one float compare
            long key = key(l, i);
            if (size < k) {
                keys[size] = key;
                siftUp(size++);
                if (size == k) entry = logitOf(keys[0]);
            } else if (key < keys[0]) {
                keys[0] = key;
                siftDown(k);
                entry = logitOf(keys[0]);
            }
        }
        return size;
    }

    private void siftUp(int i) {
        long v = keys[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] >= v) break;
            keys[i] = keys[parent];
            i = parent;
        }
        keys[i] = v;
    }

    private void siftDown(int size) {
        int i = 0;
        long v = keys[0];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && keys[child + 1] > keys[child]) child++;
            if (keys[child] <= v) break;
            keys[i] = keys[child];
            i = child;
        }
        keys[i] = v;
    }

    private void ensureKeys(int n) {
        if (keys.length < n) keys = new long[n];
    }

    // High 32 bits: the logit mapped to an int that orders like the float, inverted so that larger
    // logits come first; low 32 bits: the index, so ties go to the lower index. NaN sorts last.
    private static long key(float logit, int index) {
        int ordered;
        if (Float.isNaN(logit)) {
            ordered = Integer.MIN_VALUE;
        } else {
            int bits = Float.floatToIntBits(logit == 0f ? 0f : logit);
            ordered = bits >= 0 ? bits : bits ^ Integer.MAX_VALUE;
        }
        return ((long) ~ordered << 32) | (index & 0xFFFFFFFFL);
    }

    /** The logit a key was made from (NaN keys give NaN, which no compare lets through). */
    private static float logitOf(long key) {
        int ordered = ~(int) (key >> 32);
        if (ordered == Integer.MIN_VALUE) return Float.NaN;
        int bits = ordered >= 0 ? ordered : ordered ^ Integer.MAX_VALUE;
        return Float.intBitsToFloat(bits);
    }

    private static int index(long key) {
        return (int) key;
    }

    /** The last N accepted tokens (all of them when N is -1). */
    private static final class TokenWindow {
        private final int limit;
        private int[] tokens = new int[16];
        private int start;
        private int size;

        TokenWindow(int limit) {
            this.limit = limit;
        }

        int size() {
            return size;
        }

        void add(int token) {
            if (limit == 0) return;
            if (limit > 0 && size == limit) {
                tokens[(start + size) % tokens.length] = token; // overwrite the oldest
                start = (start + 1) % tokens.length;
                return;
            }
            if (size == tokens.length) {
                int[] grown = new int[tokens.length * 2];
                for (int i = 0; i < size; i++) grown[i] = tokens[(start + i) % tokens.length];
                tokens = grown;
                start = 0;
            }
            tokens[(start + size) % tokens.length] = token;
            size++;
        }

        Map<Integer, Integer> counts() {
            Map<Integer, Integer> counts = new HashMap<>();
            for (int i = 0; i < size; i++) counts.merge(tokens[(start + i) % tokens.length], 1, Integer::sum);
            return counts;
        }
    }
}
