package dev.gearbox.server;

import dev.gearbox.router.Decision;

/**
 * Where a request went, known before any text: the tier (or "ensemble") it was routed or forced
 * to, and the decision behind it (null only for engines that do not route, as in tests).
 */
public record Routing(String tier, Decision decision) {
    /** The model id a streamed answer names: the tier, or {@code tier:task} when the decision carries an expert. */
    public String model() {
        return decision != null && decision.expert() != null ? tier + ":" + decision.expert() : tier;
    }
}
