package dev.gearbox.server;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The requests being answered, so that a shutdown whose drain timeout ran out can end each one
 * properly instead of letting the connectors close under it: the request's own thread gets a
 * failure to report (a stream: an error event, then {@code data: [DONE]}; a whole answer: a 503),
 * and its generation is cancelled in the engine.
 */
final class Cutoff {
    private record Entry(Session session, CompletionEngine.Ticket ticket) {}

    private final Set<Entry> live = ConcurrentHashMap.newKeySet();

    interface Handle {
        void close();
    }

    /** Registers a request until the returned handle is closed. */
    Handle register(Session session, CompletionEngine.Ticket ticket) {
        Entry e = new Entry(session, ticket);
        live.add(e);
        return () -> live.remove(e);
    }

    /** Fails every registered request with a shutdown error (reported first), then cancels its generation. */
    int cutAll() {
        int n = 0;
        for (Entry e : live) {
            e.session().failed(ApiError.unavailable("the server shut down before the answer finished (its drain timeout ran out)"));
            e.ticket().cancel();
            n++;
        }
        return n;
    }
}
