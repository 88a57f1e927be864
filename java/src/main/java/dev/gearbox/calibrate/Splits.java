package dev.gearbox.calibrate;

import java.util.Arrays;
import java.util.Random;

/**
 * A seeded random partition of a prompt set: the router head trains on {@code train}, thresholds
 * are chosen on {@code validation}, and the report's metrics are measured on {@code heldOut},
 * which neither saw. {@code --split F} gives F of the rows to training and halves the rest.
 */
public record Splits(int[] train, int[] validation, int[] heldOut) {

    public static Splits of(int rows, double trainFraction, long seed) {
        if (!(trainFraction > 0 && trainFraction < 1)) throw new IllegalArgumentException("--split must be strictly between 0 and 1, got " + trainFraction);
        int[] idx = new int[rows];
        for (int i = 0; i < rows; i++) idx[i] = i;
        Random r = new Random(seed);
        for (int i = rows - 1; i > 0; i--) { // Fisher-Yates
            int j = r.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int train = (int) Math.round(rows * trainFraction);
        int rest = rows - train;
        int validation = (rest + 1) / 2;
        if (train < 1 || validation < 1 || rest - validation < 1) {
            throw new IllegalArgumentException(rows + " rows are too few to split into training (" + train + "), validation ("
                    + validation + ") and held-out (" + (rest - validation) + ") sets; use more data or another --split");
        }
        return new Splits(sorted(idx, 0, train), sorted(idx, train, train + validation), sorted(idx, train + validation, rows));
    }

    private static int[] sorted(int[] a, int from, int to) {
        int[] s = Arrays.copyOfRange(a, from, to);
        Arrays.sort(s);
        return s;
    }
}
