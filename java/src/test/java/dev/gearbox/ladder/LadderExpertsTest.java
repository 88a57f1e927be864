package dev.gearbox.ladder;

import dev.gearbox.svf.Checksums;
import dev.gearbox.svf.SvfExpert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code experts:} on a tier: parsed, checked at open against the tier's model, exposed, not served. */
class LadderExpertsTest {
    @TempDir
    Path dir;

    private SvfExpert expert(String tierFile, String task) throws Exception {
        String sha = Checksums.sha256(dir.resolve(tierFile));
        return new SvfExpert("l", sha, task, "mlp", "test", Map.of("blk.0.ffn_up.weight", new float[] {1, 2, 3}), null);
    }

    private void fails(Path ladder, String field, String... fragments) {
        assertThatThrownBy(() -> Ladder.open(ladder)).isInstanceOfSatisfying(LadderException.class, e -> {
            assertThat(e.field()).isEqualTo(field);
            assertThat(e.getMessage()).startsWith(ladder.toString()).contains(fragments);
        });
    }

    @Test
    void parsesExpertsInOrderAndKeepsOldConstructorsWorking() throws Exception {
        Path ladder = TestLadders.ladder(dir, "", "");
        TestLadders.write(ladder, "tiers:\n  - {name: s, model: tier-s.gguf, experts: {math: experts/s-math.gguf, code: x/c.gguf}}\n"
                + "  - {name: l, model: tier-l.gguf}\n");
        LadderConfig c = LadderConfig.read(ladder);
        assertThat(c.tiers().get(0).experts()).containsExactly(Map.entry("math", "experts/s-math.gguf"), Map.entry("code", "x/c.gguf"));
        assertThat(c.tiers().get(1).experts()).isEmpty();
        assertThat(new LadderConfig.TierConfig("a", "m.gguf", "cpu", 0, 1, 1, 64, null, null).experts()).isEmpty();
        assertThat(new LadderConfig.TierConfig("a", "m.gguf", "cpu", 0, 1, 1, 64, null, null, "chatml").experts()).isEmpty();

        TestLadders.write(ladder, "tiers:\n  - {name: s, model: tier-s.gguf, experts: [a.gguf]}\n");
        assertThatThrownBy(() -> LadderConfig.read(ladder)).isInstanceOfSatisfying(LadderException.class,
                e -> assertThat(e.field()).isEqualTo("tiers[0].experts"));
        TestLadders.write(ladder, "tiers:\n  - {name: s, model: tier-s.gguf, experts: {math: 3}}\n");
        assertThatThrownBy(() -> LadderConfig.read(ladder)).isInstanceOfSatisfying(LadderException.class,
                e -> assertThat(e.field()).isEqualTo("tiers[0].experts.math"));
        TestLadders.write(ladder, "tiers:\n  - {name: s, model: tier-s.gguf, experts: {'a/b': x.gguf}}\n");
        assertThatThrownBy(() -> LadderConfig.read(ladder)).isInstanceOfSatisfying(LadderException.class,
                e -> assertThat(e.field()).isEqualTo("tiers[0].experts.a/b"));
    }

    @Test
    void openReadsExpertsMadeForTheTiersModel() throws Exception {
        Path ladder = TestLadders.ladder(dir, ", experts: {math: experts/s-math.gguf}", "");
        expert("tier-s.gguf", "math").write(SvfExpert.defaultPath(dir, "s", "math"));
        try (Ladder l = Ladder.open(ladder)) {
            assertThat(l.tier("s").experts()).containsOnlyKeys("math");
            SvfExpert e = l.tier("s").experts().get("math");
            assertThat(e.file()).isEqualTo(dir.resolve("experts/s-math.gguf"));
            assertThat(e.z().get("blk.0.ffn_up.weight")).containsExactly(1, 2, 3);
            assertThat(l.tier("m").experts()).isEmpty();
        }
    }

    @Test
    void openRefusesMissingExpertsAndExpertsOfOtherModels() throws Exception {
        Path ladder = TestLadders.ladder(dir, ", experts: {math: experts/s-math.gguf}", "");
        fails(ladder, "tiers[0].experts.math", "expert file", "s-math.gguf not found");

        // made for tier m's model, named in tier s
        expert("tier-m.gguf", "math").write(dir.resolve("experts/s-math.gguf"));
        fails(ladder, "tiers[0].experts.math", "tier 's'", "s-math.gguf", Checksums.sha256(dir.resolve("tier-m.gguf")),
                Checksums.sha256(dir.resolve("tier-s.gguf")));

        // the right model, but the file is another task's
        expert("tier-s.gguf", "code").write(dir.resolve("experts/s-math.gguf"));
        fails(ladder, "tiers[0].experts.math", "for task 'code', not 'math'");
    }
}
