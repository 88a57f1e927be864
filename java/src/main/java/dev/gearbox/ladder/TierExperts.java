package dev.gearbox.ladder;

import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfAdapter;
import dev.gearbox.svf.SvfDecomposer;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.svf.SvfFactors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One tier's experts as adaptations of its model, built on first use and kept: W' or the low-rank
 * factors are uploaded once per expert, and every sequence with that expert shares them. The SVF
 * factors come from the tier's sidecar ({@code svf_factors}, default {@code <model>.svf.gguf});
 * without one, the tier's model is decomposed into a temporary sidecar first (seconds for the
 * default ladder's models, minutes for a 100M model: run {@code gearbox svf decompose} once instead).
 */
final class TierExperts {
    private final Tier tier;
    private final Path sidecar;
    private final Map<String, SvfAdapter.Built> built = new HashMap<>();
    private Path decomposed;   // the temporary sidecar, when the tier had none
    private MatrixSelection decomposedSelection;

    TierExperts(Tier tier, Path sidecar) {
        this.tier = tier;
        this.sidecar = sidecar;
    }

    synchronized SvfAdapter.Built get(String task) {
        SvfExpert e = tier.experts().get(task);
        if (e == null) {
            throw new IllegalArgumentException("tier '" + tier.name() + "' has no expert '" + task + "'"
                    + (tier.experts().isEmpty() ? " (it has none)" : " (experts: " + String.join(", ", tier.experts().keySet()) + ")"));
        }
        SvfAdapter.Built b = built.get(task);
        if (b != null) return b;
        var serving = tier.config().expertServing();
        Path model = tier.model().file().path();
        try (SvfFactors f = SvfFactors.open(factors(model, null), model)) {
            b = SvfAdapter.build(tier.model(), f, e, SvfAdapter.Form.parse(serving.form()), serving.rank(), tier.name() + ":" + task);
        } catch (IOException ex) {
            throw new UncheckedIOException("tier '" + tier.name() + "', expert '" + task + "': " + ex.getMessage(), ex);
        }
        built.put(task, b);
        return b;
    }

    /**
     * {@code expert} (one of this tier's model, e.g. a few-shot mixture) built in the tier's form,
     * not kept: the caller holds it as long as it runs sequences with it.
     */
    SvfAdapter.Built build(SvfExpert expert, String name) {
        var serving = tier.config().expertServing();
        Path model = tier.model().file().path();
        try (SvfFactors f = SvfFactors.open(factors(model, expert), model)) {
            return SvfAdapter.build(tier.model(), f, expert, SvfAdapter.Form.parse(serving.form()), serving.rank(), name);
        } catch (IOException ex) {
            throw new UncheckedIOException("tier '" + tier.name() + "', expert '" + name + "': " + ex.getMessage(), ex);
        }
    }

    /**
     * The sidecar to read: the configured one, else a decomposition of every matrix the tier's
     * experts (and {@code also}, when given) adapt; a later expert needing more matrices than the
     * temporary sidecar holds decomposes again.
     */
    private synchronized Path factors(Path model, SvfExpert also) throws IOException {
        if (Files.exists(sidecar)) return sidecar;
        MatrixSelection sel = null;
        List<SvfExpert> all = new ArrayList<>(tier.experts().values());
        if (also != null) all.add(also);
        for (SvfExpert x : all) {
            MatrixSelection m = MatrixSelection.parse(x.matrices());
            sel = sel == null || sel == m ? m : MatrixSelection.ALL;
        }
        if (decomposed == null || decomposedSelection != sel && decomposedSelection != MatrixSelection.ALL) {
            Path tmp = Files.createTempFile("gearbox-" + tier.name() + "-", ".svf.gguf");
            tmp.toFile().deleteOnExit();
            SvfDecomposer.write(model, tier.name(), sel, tmp, name -> { });
            decomposed = tmp;
            decomposedSelection = sel;
        }
        return decomposed;
    }
}
