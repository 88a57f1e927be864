package dev.gearbox.ladder;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.cuda.NoCudaDeviceException;
import dev.gearbox.device.Backends;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.ladder.LadderConfig.TierConfig;
import dev.gearbox.model.Model;
import dev.gearbox.svf.Checksums;
import dev.gearbox.svf.SvfDecomposer;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.tokenizer.Vocabularies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An opened ladder: the gatekeeper model and every tier's model loaded and checked. Models named
 * by the same file are loaded once (the default gatekeeper is the smallest tier's file).
 *
 * <p>Checks at open, each failing with a {@link LadderException} that names the file and field:
 * the YAML itself ({@link LadderConfig#read}), backends ({@code cpu} only for now), model files
 * (missing, unreadable, not a model), tiers in size order (parameter count never decreasing), one
 * vocabulary across the ensemble's tiers and across escalations that keep the partial answer, SVF
 * expert files (present, and made for the tier's exact model file).
 */
public final class Ladder implements AutoCloseable {
    private final LadderConfig config;
    private final List<Tier> tiers;
    private final Model gatekeeper;
    private final List<Model> owned;
    private final boolean[] keepPartial;
    private final ChatRenderer gatekeeperChat;

    private Ladder(LadderConfig config, List<Tier> tiers, Model gatekeeper, List<Model> owned, ChatRenderer gatekeeperChat) {
        this.gatekeeperChat = gatekeeperChat;
        this.config = config;
        this.tiers = Collections.unmodifiableList(tiers);
        this.gatekeeper = gatekeeper;
        this.owned = owned;
        keepPartial = new boolean[tiers.size()];
        for (int i = 0; i + 1 < tiers.size(); i++) {
            var esc = tiers.get(i).escalate();
            boolean off = esc != null && Boolean.FALSE.equals(esc.keepPartial());
            keepPartial[i] = !off && Vocabularies.same(tiers.get(i).model().tokenizer(), tiers.get(i + 1).model().tokenizer());
        }
    }

    /**
     * Whether tier {@code i}, escalating, hands its partial answer to tier i + 1, which continues it
     * (same vocabulary and {@code keep_partial} not switched off), rather than the answer restarting there.
     */
    public boolean keepsPartialAnswer(int i) {
        return keepPartial[i];
    }

    /** Where commands look for a ladder when none is given: {@code models/ladder.yaml} of the repository. */
    public static final String DEFAULT_RELATIVE_PATH = "models/ladder.yaml";

    /**
     * The default ladder: {@code models/ladder.yaml} under the working directory or one of its
     * parents, else beside the folder of the running jar ({@code target/gearbox.jar} sits in the
     * repository root's {@code target/}). When none exists, the working-directory path, so the
     * error names where it was expected.
     */
    public static Path defaultPath() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path d = cwd; d != null; d = d.getParent()) {
            Path p = d.resolve(DEFAULT_RELATIVE_PATH);
            if (Files.isRegularFile(p)) return p;
        }
        try {
            var src = Ladder.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                Path jar = Path.of(src.getLocation().toURI()).toAbsolutePath();
                for (Path d = jar.getParent(); d != null; d = d.getParent()) {
                    Path p = d.resolve(DEFAULT_RELATIVE_PATH);
                    if (Files.isRegularFile(p)) return p;
                }
            }
        } catch (Exception ignored) {
            // no usable code location: fall back to the working directory
        }
        return cwd.resolve(DEFAULT_RELATIVE_PATH);
    }

    /** Reads the ladder file and loads every model it names, each tier on its backend, the gatekeeper on the CPU. */
    public static Ladder open(Path file) throws IOException {
        return open(LadderConfig.read(file));
    }

    public static Ladder open(LadderConfig config) throws IOException {
        Path file = config.file();
        Map<String, Model> loaded = new LinkedHashMap<>();
        Map<Path, String> checksums = new HashMap<>(); // a model's SHA-256, hashed once however many tiers name it
        try {
            List<Tier> tiers = new ArrayList<>();
            for (int i = 0; i < config.tiers().size(); i++) {
                TierConfig tc = config.tiers().get(i);
                String at = "tiers[" + i + "]";
                switch (tc.backend()) {
                    case Backends.CPU, Backends.CUDA -> { }
                    default -> throw new LadderException(file, at + ".backend", "tier '" + tc.name() + "': unknown backend '"
                            + tc.backend() + "' (known: cpu, cuda)");
                }
                Model m = load(config, at, tc.model(), tc.backend(), tc.device(), loaded);
                Path factors = tc.expertServing().factors() != null ? config.resolve(tc.expertServing().factors())
                        : SvfDecomposer.defaultSidecar(config.resolve(tc.model()));
                tiers.add(new Tier(i, tc, m, chatRenderer(config, at, tc.chatTemplate(), m), experts(config, at, tc, checksums), factors));
            }
            for (int i = 1; i < tiers.size(); i++) {
                Tier lo = tiers.get(i - 1), hi = tiers.get(i);
                if (hi.parameterCount() < lo.parameterCount()) {
                    throw new LadderException(file, "tiers[" + i + "]", "tiers must be listed smallest first: '" + hi.name() + "' has "
                            + hi.parameterCount() + " parameters, fewer than the " + lo.parameterCount() + " of '" + lo.name() + "' before it");
                }
            }
            Model gk = load(config, "gatekeeper", config.gatekeeper().model(), Backends.CPU, 0, loaded);
            if (config.gatekeeper().layers() > gk.config().layers()) {
                throw new LadderException(file, "gatekeeper.layers", "the gatekeeper's model has " + gk.config().layers() + " layers, fewer than "
                        + config.gatekeeper().layers());
            }
            checkVocabularies(config, tiers);
            // The gatekeeper renders a chat as the tier running its model does; a model of its own uses its own template.
            ChatRenderer gkChat = null;
            for (Tier t : tiers) if (t.model() == gk) gkChat = t.chatRenderer();
            if (gkChat == null) gkChat = chatRenderer(config, "gatekeeper", null, gk);
            return new Ladder(config, tiers, gk, new ArrayList<>(loaded.values()), gkChat);
        } catch (IOException | RuntimeException e) {
            for (Model m : loaded.values()) m.close();
            throw e;
        }
    }

    /**
     * Loads a model onto its backend, once per (file, backend, device): a tier on the GPU and the
     * gatekeeper on the CPU may share a file but not weights.
     */
    private static Model load(LadderConfig config, String at, String model, String backend, int device,
                              Map<String, Model> loaded) throws LadderException {
        String field = at + ".model";
        Path path = config.resolve(model);
        String key = path + "|" + backend + (Backends.CUDA.equals(backend) ? ":" + device : "");
        Model m = loaded.get(key);
        if (m != null) return m;
        Path file = config.file();
        if (!Files.exists(path)) throw new LadderException(file, field, "model file " + path + " not found");
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) throw new LadderException(file, field, "model file " + path + " is not a readable file");
        Backend be;
        try {
            be = Backends.create(backend, device);
        } catch (NoCudaDeviceException e) {
            throw new LadderException(file, at + ".backend", e.getMessage() + " (use backend: cpu)", e);
        } catch (RuntimeException e) {
            throw new LadderException(file, at + ".backend", "cannot open backend " + backend + ": " + e.getMessage(), e);
        }
        try {
            m = Model.load(path, be);
        } catch (GGUFFormatException e) {
            be.close();
            throw new LadderException(file, field, "bad model file: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            be.close();
            throw new LadderException(file, field, "cannot load model " + path + ": " + e.getMessage(), e);
        }
        loaded.put(key, m);
        return m;
    }

    /**
     * A tier's SVF experts, read and checked: each file must exist and have been made for exactly
     * this tier's model file (its SHA-256). Only read here; no backend applies them yet (docs/svf.md).
     */
    private static Map<String, SvfExpert> experts(LadderConfig config, String at, TierConfig tc, Map<Path, String> checksums) throws LadderException {
        if (tc.experts().isEmpty()) return Map.of();
        Path model = config.resolve(tc.model());
        Map<String, SvfExpert> out = new LinkedHashMap<>();
        for (var e : tc.experts().entrySet()) {
            String field = at + ".experts." + e.getKey();
            Path p = config.resolve(e.getValue());
            if (!Files.exists(p)) throw new LadderException(config.file(), field, "expert file " + p + " not found");
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) throw new LadderException(config.file(), field, "expert file " + p + " is not a readable file");
            try {
                String sha = checksums.get(model);
                if (sha == null) checksums.put(model, sha = Checksums.sha256(model));
                SvfExpert x = SvfExpert.read(p, sha);
                if (!x.task().equals(e.getKey())) {
                    throw new LadderException(config.file(), field, "expert file " + p + " is for task '" + x.task() + "', not '" + e.getKey() + "'");
                }
                out.put(e.getKey(), x);
            } catch (LadderException ex) {
                throw ex;
            } catch (IOException ex) {
                throw new LadderException(config.file(), field, "tier '" + tc.name() + "': " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static void checkVocabularies(LadderConfig config, List<Tier> tiers) throws LadderException {
        var ens = config.ensemble();
        if (ens != null && ens.enabled()) {
            Tier first = tiers.get(config.tierIndex(ens.tiers().getFirst()));
            for (int i = 1; i < ens.tiers().size(); i++) {
                Tier t = tiers.get(config.tierIndex(ens.tiers().get(i)));
                String diff = Vocabularies.difference(first.model().tokenizer(), t.model().tokenizer());
                if (diff != null) {
                    throw new LadderException(config.file(), "ensemble.tiers[" + i + "]", "tier '" + t.name() + "' has a different vocabulary from '"
                            + first.name() + "' (" + diff + "); an ensemble needs one vocabulary");
                }
            }
        }
        for (int i = 0; i + 1 < tiers.size(); i++) {
            Tier t = tiers.get(i), next = tiers.get(i + 1);
            var esc = t.escalate();
            if (esc != null && Boolean.TRUE.equals(esc.keepPartial())) {
                String diff = Vocabularies.difference(t.model().tokenizer(), next.model().tokenizer());
                if (diff != null) {
                    throw new LadderException(config.file(), "tiers[" + i + "].escalate.keep_partial", "tier '" + t.name()
                            + "' escalates to '" + next.name() + "' keeping the partial answer, but their vocabularies differ (" + diff
                            + "); set keep_partial: false to restart the answer instead");
                }
            }
        }
    }

    public LadderConfig config() { return config; }

    public String name() { return config.name(); }

    /** The ladder file. */
    public Path path() { return config.file(); }

    /** The folder the ladder's relative paths start from. */
    public Path dir() { return config.dir(); }

    /** Where the trained router head is (or would be) stored: {@code router:} from the ladder, default router.json beside it. */
    public Path routerPath() { return config.routerPath(); }

    /** Tiers, smallest first. */
    public List<Tier> tiers() { return tiers; }

    public List<String> tierNames() {
        List<String> out = new ArrayList<>();
        for (Tier t : tiers) out.add(t.name());
        return out;
    }

    public Tier tier(String name) {
        for (Tier t : tiers) if (t.name().equals(name)) return t;
        throw new IllegalArgumentException("no tier named '" + name + "' in ladder " + config.file() + " (tiers: " + String.join(", ", tierNames()) + ")");
    }

    public Tier tier(int index) { return tiers.get(index); }

    public Tier largest() { return tiers.getLast(); }

    /** The gatekeeper's model; always on the CPU. */
    public Model gatekeeperModel() { return gatekeeper; }

    /** How the gatekeeper renders a conversation (its tier's, or its model's own template), or null for the plain contents. */
    public ChatRenderer gatekeeperChat() { return gatekeeperChat; }

    /**
     * A tier's (or the gatekeeper's) chat renderer: {@code chat_template} from the ladder (a built-in
     * name, else a template file beside the ladder), else the model's own {@code tokenizer.chat_template},
     * else null.
     */
    private static ChatRenderer chatRenderer(LadderConfig config, String at, String configured, Model m) throws LadderException {
        String field = at + ".chat_template";
        try {
            if (configured != null) {
                boolean builtIn;
                try {
                    dev.gearbox.tokenizer.ChatTemplate.byName(configured);
                    builtIn = true;
                } catch (IllegalArgumentException notBuiltIn) {
                    builtIn = false;
                }
                String override = configured;
                if (!builtIn) {
                    Path p = config.resolve(configured);
                    if (!Files.isRegularFile(p)) {
                        throw new LadderException(config.file(), field, "'" + configured + "' is neither a built-in template ("
                                + dev.gearbox.tokenizer.ChatTemplate.names() + ") nor a template file (" + p + " not found)");
                    }
                    override = Files.readString(p);
                }
                return ChatRenderer.forModel(m.file(), override);
            }
            return m.chatTemplate() == null ? null : ChatRenderer.forModel(m.file(), null);
        } catch (dev.gearbox.template.TemplateException e) {
            throw new LadderException(config.file(), field, "the chat template does not parse: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new LadderException(config.file(), field, "cannot read the chat template: " + e.getMessage(), e);
        }
    }

    public int maxAnswerTokens() { return config.maxAnswerTokens(); }

    /** The ensemble when the ladder enables one, else null. */
    public LadderConfig.EnsembleConfig ensemble() {
        var e = config.ensemble();
        return e != null && e.enabled() ? e : null;
    }

    @Override
    public void close() {
        for (Model m : owned) m.close();
    }
}
