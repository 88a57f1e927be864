package dev.gearbox.cli;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.svf.Checksums;
import dev.gearbox.svf.SvfFactors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gearbox svf decompose} on a three-tier test ladder. */
class SvfCommandTest {
    @TempDir
    Path dir;

    @Test
    void decomposesTheChosenTiersMatricesBesideItsModel() throws Exception {
        Path ladder = TestLadders.ladder(dir, "", "");
        CliRun r = CliRun.run("svf", "decompose", "--ladder", ladder.toString(), "--tier", "m", "--matrices", "attn");
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path sidecar = dir.resolve("tier-m.gguf.svf.gguf");
        assertThat(r.out()).contains(sidecar.toString()).contains("4 matrices (attn) of tier 'm'");
        try (GGUFFile f = GGUFFile.open(sidecar)) {
            assertThat(f.getString("svf.tier", null)).isEqualTo("m");
            assertThat(f.getString("svf.matrices", null)).isEqualTo("attn");
            assertThat(f.getString("svf.base_sha256", null)).isEqualTo(Checksums.sha256(dir.resolve("tier-m.gguf")));
            assertThat(f.getStrings("svf.tensors")).containsExactly("blk.0.attn_q.weight", "blk.0.attn_k.weight",
                    "blk.0.attn_v.weight", "blk.0.attn_output.weight");
        }
        try (SvfFactors f = SvfFactors.open(sidecar, dir.resolve("tier-m.gguf"))) {
            assertThat(f.tier()).isEqualTo("m");
        }
    }

    @Test
    void defaultsToTheLargestTiersMlpAndTakesAnOutputPath() throws Exception {
        Path ladder = TestLadders.ladder(dir, "", "");
        Path out = dir.resolve("elsewhere/l.svf.gguf");
        CliRun r = CliRun.run("svf", "decompose", "--ladder", ladder.toString(), "-o", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.exists(dir.resolve("tier-l.gguf.svf.gguf"))).isFalse();
        try (GGUFFile f = GGUFFile.open(out)) {
            assertThat(f.getString("svf.tier", null)).isEqualTo("l");
            assertThat(f.getStrings("svf.tensors")).hasSize(2 * 3).contains("blk.1.ffn_down.weight");
        }
    }

    @Test
    void badTierOrSelectionAreErrors() throws Exception {
        Path ladder = TestLadders.ladder(dir, "", "");
        CliRun r = CliRun.run("svf", "decompose", "--ladder", ladder.toString(), "--tier", "xl");
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.err()).contains("no tier named 'xl'");
        r = CliRun.run("svf", "decompose", "--ladder", ladder.toString(), "--matrices", "ffn");
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("unknown matrix selection 'ffn'");
        assertThat(CliRun.run("svf").exitCode()).isEqualTo(Main.EXIT_USAGE);
        java.nio.file.Files.delete(dir.resolve("tier-l.gguf"));
        r = CliRun.run("svf", "decompose", "--ladder", ladder.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.err()).contains("tier-l.gguf").contains("model file not found");
    }
}
