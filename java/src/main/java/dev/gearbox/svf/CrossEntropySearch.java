package dev.gearbox.svf;

import java.util.Arrays;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * The cross-entropy method, as Transformer² uses it for few-shot adaptation: to find mixture
 * weights α over existing experts, draw a population from a Gaussian, score each on the few
 * examples, refit the Gaussian's mean and spread to the best (the elite), repeat. No gradients, so
 * the score can be an exact-match accuracy of generated answers. Seeded, so the same examples give
 * the same α.
 *
 * @param population candidates drawn per generation
 * @param elite      how many of the best refit the distribution
 * @param generations rounds
 * @param initialStd spread of the first generation around the initial mean
 * @param minStd     floor on the spread, so the search keeps looking while generations remain
 * @param seed       random seed
 */
public record CrossEntropySearch(int population, int elite, int generations, double initialStd, double minStd, long seed) {

    public CrossEntropySearch {
        if (population < 2) throw new IllegalArgumentException("population must be >= 2, got " + population);
        if (elite < 1 || elite > population) throw new IllegalArgumentException("elite must be in 1.." + population + ", got " + elite);
        if (generations < 1) throw new IllegalArgumentException("generations must be >= 1, got " + generations);
        if (!(initialStd > 0) || !(minStd >= 0)) throw new IllegalArgumentException("initial spread must be > 0 and the floor >= 0");
    }

    /** What the search found: the best candidate scored, its score, and how many candidates were scored. */
    public record Found(double[] best, double score, int evaluations, double[] finalMean) {}

    /** Maximises {@code score} over vectors of {@code start.length}, starting around {@code start}. */
    public Found maximise(double[] start, ToDoubleFunction<double[]> score) {
        int k = start.length;
        Random rnd = new Random(seed);
        double[] mean = start.clone(), std = new double[k];
        Arrays.fill(std, initialStd);
        double[] best = start.clone();
        double bestScore = score.applyAsDouble(best);
        int evaluations = 1;
        for (int g = 0; g < generations; g++) {
            double[][] cand = new double[population][k];
            double[] s = new double[population];
            for (int i = 0; i < population; i++) {
                for (int j = 0; j < k; j++) cand[i][j] = mean[j] + std[j] * rnd.nextGaussian();
                s[i] = score.applyAsDouble(cand[i]);
                evaluations++;
                if (s[i] > bestScore) {
                    bestScore = s[i];
                    best = cand[i].clone();
                }
            }
            Integer[] order = new Integer[population];
            for (int i = 0; i < population; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Double.compare(s[b], s[a])); // stable: ties keep draw order
            for (int j = 0; j < k; j++) {
                double m = 0;
                for (int e = 0; e < elite; e++) m += cand[order[e]][j];
                m /= elite;
                double v = 0;
                for (int e = 0; e < elite; e++) v += (cand[order[e]][j] - m) * (cand[order[e]][j] - m);
                mean[j] = m;
                std[j] = Math.max(minStd, Math.sqrt(v / elite));
            }
        }
        return new Found(best, bestScore, evaluations, mean);
    }
}
