package dev.gearbox.router;

import java.util.List;

/**
 * What the gatekeeper read from one prompt: the feature vector a router head takes (names in
 * {@link #names}, same order), the readable {@link Signals}, and what the pass cost.
 */
public record Features(double[] vector, List<String> names, Signals signals, long nanos, double flops) {
    public Features {
        if (vector.length != names.size()) throw new IllegalArgumentException(vector.length + " features but " + names.size() + " names");
    }
}
