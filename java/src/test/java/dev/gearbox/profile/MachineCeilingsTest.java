package dev.gearbox.profile;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MachineCeilingsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void redirect() {
        System.setProperty("gearbox.cache.home", dir.toString());
    }

    @AfterEach
    void restore() {
        System.clearProperty("gearbox.cache.home");
    }

    @Test
    void cacheRoundTrip() throws IOException {
        assertThat(MachineCeilings.cacheFile()).isEqualTo(dir.resolve("gearbox").resolve("machine.json"));
        assertThat(MachineCeilings.load()).isNull();
        MachineCeilings c = new MachineCeilings(12.5e9, 340e9, 2, "2026-11-26T06:00:00Z");
        c.save();
        assertThat(MachineCeilings.load()).isEqualTo(c);
    }

    @Test
    void damagedCacheNamesTheFile() throws IOException {
        Path f = MachineCeilings.cacheFile();
        Files.createDirectories(f.getParent());
        Files.writeString(f, "{\"bytes_per_second\": 0}");
        assertThatThrownBy(MachineCeilings::load).isInstanceOf(IOException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("--calibrate-machine");
    }

    @Test
    void quickMeasurementIsPositive() {
        MachineCeilings c = MachineCeilings.measure(1, true);
        assertThat(c.bytesPerSecond()).isPositive();
        assertThat(c.flopsPerSecond()).isPositive();
        assertThat(c.cores()).isEqualTo(1);
    }
}
