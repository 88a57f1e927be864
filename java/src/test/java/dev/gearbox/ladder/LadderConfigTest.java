package dev.gearbox.ladder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Ladder YAML: what is read, defaults, and every field error naming the file and the field. */
class LadderConfigTest {
    @TempDir
    Path dir;

    private LadderConfig read(String yaml) throws Exception {
        return LadderConfig.read(TestLadders.write(dir.resolve("ladder.yaml"), yaml));
    }

    private void fails(String yaml, String field, String... fragments) throws Exception {
        Path f = TestLadders.write(dir.resolve("ladder.yaml"), yaml);
        assertThatThrownBy(() -> LadderConfig.read(f))
                .isInstanceOfSatisfying(LadderException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.file()).isEqualTo(f);
                    assertThat(e.getMessage()).startsWith(f.toString()).contains(fragments);
                });
    }

    private static final String TIERS = """
            tiers:
              - {name: s, model: tier-s.gguf}
              - {name: m, model: tier-m.gguf}
            """;

    @Test
    void readsTheIssueFormat() throws Exception {
        LadderConfig c = read("""
                name: default
                gatekeeper: {model: gk.gguf}
                router: router.json
                max_answer_tokens: 24
                tiers:
                  - {name: s, model: tier-s.gguf, backend: cpu, device: 0, streams: 4, max_sequences: 16, context: 256}
                  - {name: m, model: tier-m.gguf, backend: cpu, device: 0, streams: 2, max_sequences: 8, context: 256, cost_per_token: 5.0e6}
                  - {name: l, model: tier-l.gguf, backend: cpu, device: 0, streams: 1, max_sequences: 4, context: 256,
                     escalate: {window: 8, min_mean_logprob: -1.0}}
                ensemble: {enabled: true, tiers: [m, l], weights: [0.4, 0.6]}
                """);
        assertThat(c.name()).isEqualTo("default");
        assertThat(c.gatekeeper().model()).isEqualTo("gk.gguf");
        assertThat(c.maxAnswerTokens()).isEqualTo(24);
        assertThat(c.tiers()).extracting(LadderConfig.TierConfig::name).containsExactly("s", "m", "l");
        assertThat(c.tiers().get(0).streams()).isEqualTo(4);
        assertThat(c.tiers().get(0).maxSequences()).isEqualTo(16);
        assertThat(c.tiers().get(0).costPerToken()).isNull();
        assertThat(c.tiers().get(1).costPerToken()).isEqualTo(5.0e6);
        assertThat(c.tiers().get(2).escalate()).isEqualTo(new LadderConfig.EscalateConfig(8, -1.0, null));
        assertThat(c.ensemble().tiers()).containsExactly("m", "l");
        assertThat(c.ensemble().weights()).containsExactly(0.4, 0.6);
        assertThat(c.resolve("tier-s.gguf")).isEqualTo(dir.resolve("tier-s.gguf").toAbsolutePath().normalize());
        assertThat(c.routerPath()).isEqualTo(dir.resolve("router.json").toAbsolutePath().normalize());
    }

    @Test
    void defaults() throws Exception {
        LadderConfig c = read(TIERS);
        assertThat(c.gatekeeper().model()).isEqualTo("tier-s.gguf");   // the smallest tier
        assertThat(c.maxAnswerTokens()).isEqualTo(LadderConfig.DEFAULT_MAX_ANSWER_TOKENS);
        assertThat(c.tiers().get(0).backend()).isEqualTo("cpu");
        assertThat(c.ensemble()).isNull();
        assertThat(c.routerPath().getFileName().toString()).isEqualTo("router.json");
    }

    @Test
    void ensembleWeightsAreNormalisedAndDefaultToEqual() throws Exception {
        assertThat(read(TIERS + "ensemble: {tiers: [s, m], weights: [1, 3]}").ensemble().weights()).containsExactly(0.25, 0.75);
        assertThat(read(TIERS + "ensemble: {tiers: [s, m]}").ensemble().weights()).containsExactly(0.5, 0.5);
        assertThat(read(TIERS + "ensemble: {enabled: false, tiers: [s, m]}").ensemble().enabled()).isFalse();
    }

    @Test
    void fileErrors() throws Exception {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> LadderConfig.read(missing)).isInstanceOf(LadderException.class).hasMessageContaining("nope.yaml").hasMessageContaining("not found");
        fails("tiers: [ {name: s", null, "not valid YAML");
        fails("- just\n- a list\n", null, "must be a mapping");
    }

    @Test
    void tierErrors() throws Exception {
        fails("name: x\n", "tiers", "non-empty list");
        fails("tiers: []\n", "tiers", "non-empty list");
        fails("tiers:\n  - {name: s}\n", "tiers[0].model", "is required");
        fails("tiers:\n  - {model: a.gguf}\n", "tiers[0].name", "is required");
        fails("tiers:\n  - {name: s, model: a.gguf}\n  - {name: s, model: b.gguf}\n", "tiers[1].name", "duplicate tier name 's'");
        fails("tiers:\n  - {name: ensemble, model: a.gguf}\n", "tiers[0].name", "reserved");
        fails("tiers:\n  - {name: s, model: a.gguf, contxt: 12}\n", "tiers[0].contxt", "unknown field");
        fails("tiers:\n  - {name: s, model: a.gguf, context: lots}\n", "tiers[0].context", "must be an integer");
        fails("tiers:\n  - {name: s, model: a.gguf, streams: 0}\n", "tiers[0].streams", "must be in [1,");
        fails("tiers:\n  - {name: s, model: a.gguf, cost_per_token: -3}\n", "tiers[0].cost_per_token", "positive");
        fails("tiers:\n  - 42\n", "tiers[0]", "mapping");
    }

    @Test
    void escalationErrors() throws Exception {
        fails("tiers:\n  - {name: s, model: a.gguf, escalate: {window: 4}}\n", "tiers[0].escalate.min_mean_logprob", "is required");
        fails("tiers:\n  - {name: s, model: a.gguf, escalate: {window: 4, min_mean_logprob: 0.5}}\n", "tiers[0].escalate.min_mean_logprob", "<= 0");
        fails("tiers:\n  - {name: s, model: a.gguf, escalate: {window: 0, min_mean_logprob: -1}}\n", "tiers[0].escalate.window", "must be in");
        fails("tiers:\n  - {name: s, model: a.gguf, escalate: {window: 2, min_mean_logprob: -1, min_logprob: -2}}\n", "tiers[0].escalate.min_logprob", "unknown field");
    }

    @Test
    void ensembleErrors() throws Exception {
        fails(TIERS + "ensemble: {tiers: [s, xl]}\n", "ensemble.tiers[1]", "unknown tier 'xl'", "s, m");
        fails(TIERS + "ensemble: {tiers: [s]}\n", "ensemble.tiers", "at least two");
        fails(TIERS + "ensemble: {tiers: [s, s]}\n", "ensemble.tiers[1]", "listed twice");
        fails(TIERS + "ensemble: {tiers: [s, m], weights: [1]}\n", "ensemble.weights", "1 weights for 2 tiers");
        fails(TIERS + "ensemble: {tiers: [s, m], weights: [1, -1]}\n", "ensemble.weights[1]", ">= 0");
        fails(TIERS + "ensemble: {tiers: [s, m], weights: [0, 0]}\n", "ensemble.weights", "all be zero");
        fails(TIERS + "ensemble: {tiers: [s, m], enabled: maybe}\n", "ensemble.enabled", "true or false");
    }

    @Test
    void topLevelErrors() throws Exception {
        fails(TIERS + "max_answer_tokens: 0\n", "max_answer_tokens", "must be in [1,");
        fails(TIERS + "routr: r.json\n", "routr", "unknown field");
        fails(TIERS + "gatekeeper: {model: g.gguf, backend: cuda}\n", "gatekeeper.backend", "always runs on the CPU");
        fails(TIERS + "gatekeeper: {layers: 0}\n", "gatekeeper.layers", "must be in [1,");
        fails(TIERS + "gatekeeper: {max_prompt_tokens: 1}\n", "gatekeeper.max_prompt_tokens", "must be in [2,");
        fails(TIERS + "gatekeeper: {model: g.gguf, lanes: 2}\n", "gatekeeper.lanes", "unknown field");
    }

    @Test
    void gatekeeperOptionsDefaultToTheSmallestTierReadInFull() throws Exception {
        var g = read(TIERS + "gatekeeper: {context: 64, layers: 4, max_prompt_tokens: 32}\n").gatekeeper();
        assertThat(g.model()).isEqualTo(read(TIERS).tiers().getFirst().model());
        assertThat(g.context()).isEqualTo(64);
        assertThat(g.layers()).isEqualTo(4);
        assertThat(g.promptLimit()).isEqualTo(32);
        assertThat(read(TIERS + "gatekeeper: {max_prompt_tokens: 1000}\n").gatekeeper().promptLimit()).as("never past the context").isEqualTo(512);
        assertThat(read(TIERS).gatekeeper().layers()).isZero();
    }
}
