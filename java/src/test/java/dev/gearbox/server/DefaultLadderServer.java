package dev.gearbox.server;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;

/** The committed default ladder behind a server on a free loopback port, for the server tests. */
final class DefaultLadderServer implements AutoCloseable {
    final Ladder ladder;
    final Scheduler scheduler;
    final GearboxServer server;
    final Http http;

    /** {@code maxTokens}: the answer length a request gets when it names none. */
    DefaultLadderServer(int maxTokens) throws java.io.IOException {
        this(maxTokens, Ladder.defaultPath());
    }

    /** The same over another ladder file (one with experts, say). */
    DefaultLadderServer(int maxTokens, java.nio.file.Path ladderFile) throws java.io.IOException {
        ladder = Ladder.open(ladderFile);
        scheduler = Scheduler.open(ladder);
        server = new GearboxServer(new SchedulerEngine(scheduler), maxTokens, new GearboxServer.Settings("127.0.0.1", 0, 64 * 1024, 10_000));
        http = new Http(server.port());
    }

    @Override
    public void close() {
        server.close();
        ladder.close();
    }
}
