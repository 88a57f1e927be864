package dev.gearbox.sample;

/**
 * Counter-based uniform numbers for the Gumbel-max draw: one number per (seed, step, token index),
 * computed rather than drawn from a generator, so any device can make the same ones in parallel.
 * Must stay equal to mix64 and the draw in native/src/sample.cu.
 */
final class GumbelNoise {
    private GumbelNoise() {}

    /** One splitmix64 step: add the golden gamma, then its finalizer. */
    static long mix64(long x) {
        x += 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    /** A float in (0, 1): 24 bits of the hash of (seed, step, index), centred in their interval. */
    static float uniform(long seed, int step, int index) {
        long h = mix64(seed ^ mix64(((long) step << 32) | (index & 0xFFFFFFFFL)));
        return ((float) (h >>> 40) + 0.5f) * (1f / 16777216f);
    }
}
