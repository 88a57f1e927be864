package dev.gearbox.server;

import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.schedule.Result;

import java.util.List;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A listener that hands the engine's reports to the HTTP thread in order, so that all writing
 * to the client happens on one thread (the request's own).
 */
final class Session implements CompletionListener {
    sealed interface Event permits Routed, Text, Logprobs, Done, Failed {}
    record Routed(Routing routing) implements Event {}
    record Text(int choice, String delta) implements Event {}
    record Logprobs(int choice, List<TokenLogprob> tokens) implements Event {}
    record Done(int choice, Result result) implements Event {}
    record Failed(Throwable error) implements Event {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private Event pending;   // looked at by peek, not yet taken (only the request's thread reads)

    @Override public void routed(Routing routing) { events.add(new Routed(routing)); }
    @Override public void text(int choice, String delta) { events.add(new Text(choice, delta)); }
    @Override public void logprobs(int choice, List<TokenLogprob> tokens) { events.add(new Logprobs(choice, tokens)); }
    @Override public void done(int choice, Result result) { events.add(new Done(choice, result)); }
    @Override public void failed(Throwable error) { events.add(new Failed(error)); }

    /** The next report, or null after {@code timeoutMillis}. */
    Event next(long timeoutMillis) throws InterruptedException {
        if (pending != null) {
            Event e = pending;
            pending = null;
            return e;
        }
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** The next report without taking it (the next {@link #next} returns it), or null after {@code timeoutMillis}. */
    Event peek(long timeoutMillis) throws InterruptedException {
        if (pending == null) pending = events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        return pending;
    }
}
