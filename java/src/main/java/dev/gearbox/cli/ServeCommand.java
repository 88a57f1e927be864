package dev.gearbox.cli;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import dev.gearbox.server.SchedulerEngine;
import dev.gearbox.server.GearboxServer;
import dev.gearbox.server.Security;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves the ladder over an OpenAI-compatible HTTP API: POST /v1/chat/completions, POST /v1/completions",
                "(stream: true for server-sent events), GET /v1/models, GET /health, GET /metrics (Prometheus).",
                "model \"auto\" routes through the gatekeeper; a tier's name forces that tier. SIGTERM or Ctrl-C drains requests in flight."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LadderOptions ladderOptions = new LadderOptions();

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}: this machine only). Anything else is reachable by others: set --api-key.")
    String host;

    @Option(names = {"-p", "--port"}, defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--queue", defaultValue = "64", description = "Requests that may wait per tier before 429 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--no-prefix-cache", description = "Turn prefix caching off (on by default: prompts that start like earlier ones reuse their KV blocks).")
    boolean noPrefixCache;

    @Option(names = "--max-body", defaultValue = "1048576", description = "Largest request body in bytes (default: ${DEFAULT-VALUE}).")
    long maxBody;

    @Option(names = "--drain-seconds", defaultValue = "30", description = "How long shutdown waits for requests in flight (default: ${DEFAULT-VALUE}).")
    int drainSeconds;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on the API (repeatable; any listed key is accepted).")
    List<String> apiKeys = new ArrayList<>();

    @Option(names = "--api-keys", paramLabel = "FILE",
            description = "Read API keys from FILE, one per line (blank lines and # comments ignored); keeps keys off the command line.")
    Path apiKeyFile;

    @Option(names = "--protect-health-metrics",
            description = "Require an API key on /health and /metrics too (by default they stay open for probes and scrapers).")
    boolean protectHealthMetrics;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "Let browser pages from ORIGIN (scheme://host[:port], or * for any) call the API cross-origin (repeatable).")
    List<String> corsOrigins = new ArrayList<>();

    /** The keys from --api-key and --api-keys FILE. */
    static List<String> keys(List<String> given, Path file) throws IOException {
        List<String> keys = new ArrayList<>(given);
        if (file != null) {
            int before = keys.size();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String k = line.strip();
                if (!k.isEmpty() && !k.startsWith("#")) keys.add(k);
            }
            // An empty key file must not quietly leave the server open.
            if (keys.size() == before) throw new IllegalArgumentException("--api-keys " + file + " holds no keys");
        }
        return keys;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0..65535, got " + port);
        Security.Options security = new Security.Options(keys(apiKeys, apiKeyFile), protectHealthMetrics, corsOrigins);
        Ladder ladder = ladderOptions.open();
        Scheduler scheduler = Scheduler.open(ladder, Scheduler.Options.defaults().withQueueCapacity(queue).withPrefixCaching(!noPrefixCache));
        GearboxServer server = new GearboxServer(new SchedulerEngine(scheduler), ladder.maxAnswerTokens(),
                new GearboxServer.Settings(host, port, maxBody, drainSeconds * 1000L, security));
        if (security.apiKeys().isEmpty() && !Security.isLoopback(host)) {
            spec.commandLine().getErr().println("gearbox serve: warning: listening on " + host + " without --api-key: anyone who can reach it can use it");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("gearbox serve: shutting down, draining requests in flight");
            server.close();          // drains, then closes the scheduler
            ladder.close();
            stopped.countDown();
        }, "gearbox-shutdown"));
        // The one line scripts wait for: where to connect.
        spec.commandLine().getOut().printf("gearbox serve: listening on http://%s:%d (ladder %s, tiers %s + auto)%n",
                host, server.port(), ladder.path(), String.join(", ", ladder.tierNames()));
        spec.commandLine().getOut().flush();
        stopped.await();
        return Main.EXIT_OK;
    }
}
