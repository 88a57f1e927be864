package dev.gearbox.server;

import dev.gearbox.router.Decision;

/**
 * Where a request went, known before any text: the tier (or "ensemble") answering it, and the
 * router's decision when the engine has it this early (else null; the {@link Outcome} has it).
 */
public record Routing(String tier, Decision decision) {}
