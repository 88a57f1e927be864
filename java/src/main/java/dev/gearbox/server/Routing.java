package dev.gearbox.server;

import dev.gearbox.router.Decision;

/**
 * Where a request went: the tier (or "ensemble") answering it and the router's decision
 * ({@code decision.source() == "forced"} when the client named the tier).
 */
public record Routing(String tier, Decision decision) {}
