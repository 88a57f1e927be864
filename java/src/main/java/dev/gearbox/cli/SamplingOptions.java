package dev.gearbox.cli;

import dev.gearbox.sample.SamplingParams;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Sampling options with llama.cpp's names and defaults. */
final class SamplingOptions {
    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "Most tokens to generate; -1 = until end of generation or a full context (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8",
            description = "Temperature; 0 = greedy, always the most likely token (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40",
            description = "Keep the K most likely tokens; 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95",
            description = "Keep the most likely tokens up to total probability P; 1 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05",
            description = "Drop tokens less likely than P times the most likely; 0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", defaultValue = "1.0",
            description = "Penalise tokens repeated in the last --repeat-last-n; 1 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64",
            description = "Tokens the penalties look back over; 0 = off, -1 = whole context (default: ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = "--presence-penalty", paramLabel = "X", defaultValue = "0",
            description = "Subtracted once from tokens seen in the window; 0 = off (default: ${DEFAULT-VALUE}).")
    float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "X", defaultValue = "0",
            description = "Subtracted per occurrence in the window; 0 = off (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "S", defaultValue = "-1",
            description = "Random seed, any integer; -1 = a random one, reported on stderr (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", paramLabel = "STR",
            description = "Stop when the text contains STR (not printed); repeatable.")
    List<String> stop = new ArrayList<>();

    SamplingParams params() {
        return SamplingParams.builder()
                .maxTokens(maxTokens).temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repeatPenalty(repeatPenalty).repeatLastN(repeatLastN)
                .presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
                // llama.cpp's convention, kept on the command line only: -1 asks for a random seed.
                .seed(seed == -1 ? null : Long.valueOf(seed)).stop(stop)
                .build();
    }
}
