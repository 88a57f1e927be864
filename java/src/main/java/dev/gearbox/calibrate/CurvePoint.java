package dev.gearbox.calibrate;

/**
 * One operating point: {@code cost} as a share of always-largest compute (1 = what the largest tier
 * spends answering every prompt), {@code quality} the share of prompts answered correctly.
 */
public record CurvePoint(double cost, double quality) {
    public CurvePoint withQuality(double q) { return new CurvePoint(cost, q); }
}
