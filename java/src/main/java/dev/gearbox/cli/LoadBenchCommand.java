package dev.gearbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import dev.gearbox.server.GearboxServer;
import dev.gearbox.server.LoadBench;
import dev.gearbox.server.SchedulerEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "load-bench", mixinStandardHelpOptions = true,
        description = {"Many concurrent streaming chat clients on a mixed workload against a Gearbox server on this machine",
                "(one it starts on a free loopback port, or --url). Reports requests/s, tokens/s, p50/p99 latency and time to",
                "first token; exits 1 unless every stream ended with a finish_reason and [DONE]."})
final class LoadBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LadderOptions ladderOptions = new LadderOptions();

    @Option(names = "--url", description = "A running server on loopback, e.g. http://127.0.0.1:8080 (default: start one).")
    URI url;

    @Option(names = "--data", description = "JSONL workload with prompt (and reference) fields (default: data/heldout.jsonl beside the ladder).")
    Path data;

    @Option(names = {"-c", "--clients"}, defaultValue = "16", description = "Concurrent streaming clients (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = {"-n", "--requests"}, defaultValue = "200", description = "Most requests in all (default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--max-seconds", defaultValue = "120", description = "Stop starting requests after this long (default: ${DEFAULT-VALUE}).")
    int maxSeconds;

    @Option(names = "--model", defaultValue = "auto", description = "Model for every request (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path ladderPath = ladderOptions.path();
        Path workload = data != null ? data : ladderPath.toAbsolutePath().getParent().resolve("data").resolve("heldout.jsonl");
        JsonNode report;
        if (url != null) {
            report = LoadBench.run(new LoadBench.Settings(url, workload, clients, requests, maxSeconds, model));
        } else {
            try (Ladder ladder = ladderOptions.open();
                 GearboxServer server = new GearboxServer(new SchedulerEngine(Scheduler.open(ladder)), ladder.maxAnswerTokens(),
                         GearboxServer.Settings.loopback(0))) {
                report = LoadBench.run(new LoadBench.Settings(URI.create("http://127.0.0.1:" + server.port()), workload, clients, requests,
                        maxSeconds, model));
            }
        }
        var out = spec.commandLine().getOut();
        out.println(json ? report.toString() : LoadBench.describe(report));
        out.flush();
        return report.get("failed").asInt() == 0 && report.get("succeeded").asInt() > 0 ? Main.EXIT_OK : Main.EXIT_ERROR;
    }
}
