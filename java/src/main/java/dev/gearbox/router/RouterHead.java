package dev.gearbox.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.ladder.LadderException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trained router: one L2-regularised logistic regression per tier below the largest, on
 * standardised gatekeeper features, giving P(this tier's answer is as good as the largest
 * tier's). The largest tier's probability is 1 by definition. Thresholds per tier (and for
 * {@code "ensemble"}) travel with the weights in {@code router.json}.
 *
 * <p>Training is Newton's method with step halving (gradient descent with backtracking above
 * {@link #NEWTON_MAX_PARAMETERS} weights) on the mean log-loss plus
 * {@code l2/2 |w|^2} (the intercept is not penalised beyond a tiny ridge that keeps a tier whose
 * labels are all equal finite). Pure arithmetic in a fixed order, so the same data give the same
 * weights bit for bit.
 */
public final class RouterHead {
    public static final int FORMAT_VERSION = 1;
    public static final double DEFAULT_L2 = 0.05;
    public static final double DEFAULT_THRESHOLD = 0.5;
    private static final double INTERCEPT_RIDGE = 1e-6;
    private static final int MAX_ITERATIONS = 100;
    /** Above this many weights (a wide gatekeeper) a Newton step's k^3 solve is too slow: gradient descent instead. */
    static final int NEWTON_MAX_PARAMETERS = 600;
    private static final int GD_ITERATIONS = 2000;

    private final List<String> featureNames;
    private final List<String> tierNames;
    private final double[] means, stds;
    /** Per non-largest tier: [intercept, w_0 .. w_{d-1}] on standardised features. */
    private final double[][] weights;
    private final Map<String, Double> thresholds;
    private final Training training;

    /** What training saw and reached, per tier; stored in router.json for the record. */
    public record Training(int examples, double l2, Map<String, TierFit> tiers) {}

    /** One tier's fit: positives among the examples, training accuracy at 0.5, mean log-loss, Newton iterations. */
    public record TierFit(int positives, double accuracy, double logLoss, int iterations) {}

    public RouterHead(List<String> featureNames, List<String> tierNames, double[] means, double[] stds, double[][] weights,
                      Map<String, Double> thresholds, Training training) {
        int d = featureNames.size();
        if (tierNames.size() < 1) throw new IllegalArgumentException("a router needs at least one tier");
        if (means.length != d || stds.length != d) throw new IllegalArgumentException("means/stds do not match " + d + " features");
        if (weights.length != tierNames.size() - 1) throw new IllegalArgumentException(weights.length + " weight rows for " + tierNames.size() + " tiers (expected one per tier below the largest)");
        for (double[] w : weights) if (w.length != d + 1) throw new IllegalArgumentException("a weight row has " + w.length + " values, expected " + (d + 1));
        this.featureNames = List.copyOf(featureNames);
        this.tierNames = List.copyOf(tierNames);
        this.means = means.clone();
        this.stds = stds.clone();
        this.weights = new double[weights.length][];
        for (int i = 0; i < weights.length; i++) this.weights[i] = weights[i].clone();
        this.thresholds = Collections.unmodifiableMap(new LinkedHashMap<>(thresholds));
        this.training = training;
    }

    public List<String> featureNames() { return featureNames; }
    public List<String> tierNames() { return tierNames; }
    public Map<String, Double> thresholds() { return thresholds; }
    public Training training() { return training; }

    /** The same head with other thresholds (tier name or "ensemble" to a probability). */
    public RouterHead withThresholds(Map<String, Double> newThresholds) {
        for (var e : newThresholds.entrySet()) {
            if (!e.getKey().equals(Decision.ENSEMBLE) && !tierNames.contains(e.getKey())) {
                throw new IllegalArgumentException("threshold for unknown tier '" + e.getKey() + "' (tiers: " + String.join(", ", tierNames) + ")");
            }
            double t = e.getValue();
            if (!(t >= 0 && t <= 1)) throw new IllegalArgumentException("threshold for '" + e.getKey() + "' must be in [0, 1], got " + t);
        }
        return new RouterHead(featureNames, tierNames, means, stds, weights, newThresholds, training);
    }

    /** Per tier, P(its answer is as good as the largest tier's); the largest's is 1. */
    public double[] probabilities(double[] features) {
        if (features.length != featureNames.size()) {
            throw new IllegalArgumentException("the router head takes " + featureNames.size() + " features, got " + features.length);
        }
        double[] p = new double[tierNames.size()];
        for (int t = 0; t < weights.length; t++) {
            double[] w = weights[t];
            double z = w[0];
            for (int j = 0; j < features.length; j++) z += w[j + 1] * ((features[j] - means[j]) / stds[j]);
            p[t] = sigmoid(z);
        }
        p[p.length - 1] = 1;
        return p;
    }

    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    // ---------------------------------------------------------------- training

    /**
     * Trains one logistic regression per tier below the largest.
     *
     * @param x      examples' feature vectors (gatekeeper features), all the same length
     * @param labels per example, per tier (at least the tiers below the largest): this tier's answer
     *               is as good as the largest tier's
     * @param l2     ridge on the standardised weights (e.g. {@link #DEFAULT_L2})
     */
    public static RouterHead train(List<String> featureNames, List<String> tierNames, double[][] x, boolean[][] labels, double l2) {
        return train(featureNames, tierNames, x, labels, l2, NEWTON_MAX_PARAMETERS);
    }

    /** As {@link #train}, with Newton's method up to {@code newtonMax} weights per tier (tests compare both solvers). */
    static RouterHead train(List<String> featureNames, List<String> tierNames, double[][] x, boolean[][] labels, double l2, int newtonMax) {
        int n = x.length, d = featureNames.size(), tiers = tierNames.size();
        if (n == 0) throw new IllegalArgumentException("no training examples");
        if (labels.length != n) throw new IllegalArgumentException(n + " examples but " + labels.length + " label rows");
        if (!(l2 >= 0) || !Double.isFinite(l2)) throw new IllegalArgumentException("l2 must be a finite number >= 0, got " + l2);
        for (int i = 0; i < n; i++) {
            if (x[i].length != d) throw new IllegalArgumentException("example " + i + " has " + x[i].length + " features, expected " + d);
            if (labels[i].length < tiers - 1) throw new IllegalArgumentException("example " + i + " has " + labels[i].length + " labels, expected " + tiers);
            for (double v : x[i]) if (!Double.isFinite(v)) throw new IllegalArgumentException("example " + i + " has a non-finite feature");
        }
        double[] means = new double[d], stds = new double[d];
        for (double[] row : x) for (int j = 0; j < d; j++) means[j] += row[j];
        for (int j = 0; j < d; j++) means[j] /= n;
        for (double[] row : x) for (int j = 0; j < d; j++) stds[j] += (row[j] - means[j]) * (row[j] - means[j]);
        for (int j = 0; j < d; j++) {
            double s = Math.sqrt(stds[j] / n);
            stds[j] = s > 1e-12 ? s : 1;   // constant feature: leave it centred at 0
        }
        // Design matrix with a leading 1 for the intercept.
        double[][] z = new double[n][d + 1];
        for (int i = 0; i < n; i++) {
            z[i][0] = 1;
            for (int j = 0; j < d; j++) z[i][j + 1] = (x[i][j] - means[j]) / stds[j];
        }
        double[][] w = new double[tiers - 1][];
        Map<String, TierFit> fits = new LinkedHashMap<>();
        Map<String, Double> thresholds = new LinkedHashMap<>();
        for (int t = 0; t < tiers - 1; t++) {
            double[] y = new double[n];
            int pos = 0;
            for (int i = 0; i < n; i++) {
                y[i] = labels[i][t] ? 1 : 0;
                pos += labels[i][t] ? 1 : 0;
            }
            Fit f = d + 1 <= newtonMax ? newton(z, y, l2) : gradientDescent(z, y, l2);
            w[t] = f.w;
            int correct = 0;
            for (int i = 0; i < n; i++) if ((dot(f.w, z[i]) >= 0) == (y[i] == 1)) correct++;
            fits.put(tierNames.get(t), new TierFit(pos, (double) correct / n, f.logLoss, f.iterations));
            thresholds.put(tierNames.get(t), DEFAULT_THRESHOLD);
        }
        return new RouterHead(featureNames, tierNames, means, stds, w, thresholds, new Training(n, l2, fits));
    }

    private record Fit(double[] w, double logLoss, int iterations) {}

    private static double dot(double[] w, double[] z) {
        double s = 0;
        for (int j = 0; j < w.length; j++) s += w[j] * z[j];
        return s;
    }

    /** Mean log-loss plus the ridge terms. */
    private static double objective(double[][] z, double[] y, double[] w, double l2) {
        double loss = 0;
        for (int i = 0; i < z.length; i++) {
            double s = dot(w, z[i]);
            // log(1 + e^s) - y s, computed without overflow
            loss += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - y[i] * s;
        }
        double reg = INTERCEPT_RIDGE * w[0] * w[0];
        for (int j = 1; j < w.length; j++) reg += l2 * w[j] * w[j];
        return loss / z.length + reg / 2;
    }

    private static Fit newton(double[][] z, double[] y, double l2) {
        int n = z.length, k = z[0].length;
        double[] w = new double[k];
        double obj = objective(z, y, w, l2);
        int it = 0;
        for (; it < MAX_ITERATIONS; it++) {
            double[] g = new double[k];
            double[][] h = new double[k][k];
            for (int i = 0; i < n; i++) {
                double[] zi = z[i];
                double p = sigmoid(dot(w, zi));
                double r = (p - y[i]) / n, s = Math.max(p * (1 - p), 1e-12) / n;
                for (int a = 0; a < k; a++) {
                    double za = zi[a];
                    if (za == 0) continue;
                    g[a] += r * za;
                    double sza = s * za;
                    double[] ha = h[a];
                    for (int b = 0; b <= a; b++) ha[b] += sza * zi[b];
                }
            }
            g[0] += INTERCEPT_RIDGE * w[0];
            h[0][0] += INTERCEPT_RIDGE;
            for (int a = 1; a < k; a++) {
                g[a] += l2 * w[a];
                h[a][a] += l2;
            }
            for (int a = 0; a < k; a++) for (int b = a + 1; b < k; b++) h[a][b] = h[b][a];
            double[] step = solveSpd(h, g);
            double gradNorm = 0;
            for (double v : g) gradNorm = Math.max(gradNorm, Math.abs(v));
            if (gradNorm < 1e-10) break;
            double scale = 1;
            double[] next = new double[k];
            double nextObj;
            while (true) {
                for (int a = 0; a < k; a++) next[a] = w[a] - scale * step[a];
                nextObj = objective(z, y, next, l2);
                if (nextObj <= obj || scale < 1e-6) break;
                scale /= 2;
            }
            double change = obj - nextObj;
            w = next.clone();
            obj = nextObj;
            if (change >= 0 && change < 1e-12) { it++; break; }
        }
        return new Fit(w, meanLogLoss(z, y, w), it);
    }

    /** The plain mean log-loss, without the ridge terms: what a fit reports. */
    private static double meanLogLoss(double[][] z, double[] y, double[] w) {
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            double s = dot(w, z[i]);
            sum += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - y[i] * s;
        }
        return sum / z.length;
    }

    /** Gradient descent with backtracking (Armijo) steps, for heads with many features. */
    private static Fit gradientDescent(double[][] z, double[] y, double l2) {
        int n = z.length, k = z[0].length;
        double[] w = new double[k];
        double obj = objective(z, y, w, l2);
        double step = 1;
        int it = 0;
        for (; it < GD_ITERATIONS; it++) {
            double[] g = new double[k];
            for (int i = 0; i < n; i++) {
                double r = (sigmoid(dot(w, z[i])) - y[i]) / n;
                double[] zi = z[i];
                for (int a = 0; a < k; a++) g[a] += r * zi[a];
            }
            g[0] += INTERCEPT_RIDGE * w[0];
            for (int a = 1; a < k; a++) g[a] += l2 * w[a];
            double gg = 0;
            for (double v : g) gg += v * v;
            if (gg < 1e-20) break;
            double[] next = new double[k];
            double nextObj;
            step = Math.min(1e3, step * 2);
            while (true) {
                for (int a = 0; a < k; a++) next[a] = w[a] - step * g[a];
                nextObj = objective(z, y, next, l2);
                if (nextObj <= obj - 0.5 * step * gg || step < 1e-12) break;
                step /= 2;
            }
            double change = obj - nextObj;
            w = next;
            obj = nextObj;
            if (change >= 0 && change < 1e-12) { it++; break; }
        }
        return new Fit(w, meanLogLoss(z, y, w), it);
    }

    /** Solves H x = g for a symmetric positive definite H by Cholesky (a small jitter if rounding makes it indefinite). */
    static double[] solveSpd(double[][] h, double[] g) {
        int k = g.length;
        for (double jitter = 0; ; jitter = jitter == 0 ? 1e-10 : jitter * 100) {
            double[][] l = new double[k][k];
            boolean ok = true;
            outer:
            for (int i = 0; i < k; i++) {
                for (int j = 0; j <= i; j++) {
                    double s = h[i][j] + (i == j ? jitter : 0);
                    for (int m = 0; m < j; m++) s -= l[i][m] * l[j][m];
                    if (i == j) {
                        if (!(s > 0)) { ok = false; break outer; }
                        l[i][i] = Math.sqrt(s);
                    } else {
                        l[i][j] = s / l[j][j];
                    }
                }
            }
            if (!ok) {
                if (jitter > 1) throw new IllegalStateException("router training: Hessian is not positive definite");
                continue;
            }
            double[] yv = new double[k];
            for (int i = 0; i < k; i++) {
                double s = g[i];
                for (int m = 0; m < i; m++) s -= l[i][m] * yv[m];
                yv[i] = s / l[i][i];
            }
            double[] x = new double[k];
            for (int i = k - 1; i >= 0; i--) {
                double s = yv[i];
                for (int m = i + 1; m < k; m++) s -= l[m][i] * x[m];
                x[i] = s / l[i][i];
            }
            return x;
        }
    }

    // ---------------------------------------------------------------- router.json

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", "gearbox-router");
        o.put("version", FORMAT_VERSION);
        o.put("model", "logistic");
        ArrayNode tn = o.putArray("tiers");
        tierNames.forEach(tn::add);
        ArrayNode fn = o.putArray("feature_names");
        featureNames.forEach(fn::add);
        ArrayNode mn = o.putArray("means");
        for (double v : means) mn.add(v);
        ArrayNode sd = o.putArray("stds");
        for (double v : stds) sd.add(v);
        ObjectNode heads = o.putObject("heads");
        for (int t = 0; t < weights.length; t++) {
            ObjectNode h = heads.putObject(tierNames.get(t));
            h.put("intercept", weights[t][0]);
            ArrayNode w = h.putArray("weights");
            for (int j = 1; j < weights[t].length; j++) w.add(weights[t][j]);
        }
        ObjectNode th = o.putObject("thresholds");
        thresholds.forEach(th::put);
        if (training != null) {
            ObjectNode tr = o.putObject("training");
            tr.put("examples", training.examples());
            tr.put("l2", training.l2());
            ObjectNode per = tr.putObject("tiers");
            training.tiers().forEach((name, f) -> {
                ObjectNode x = per.putObject(name);
                x.put("positives", f.positives());
                x.put("accuracy", f.accuracy());
                x.put("log_loss", f.logLoss());
                x.put("iterations", f.iterations());
            });
        }
        return o;
    }

    /** Writes router.json (via a temporary file, so readers never see half of it). */
    public void save(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(toJson()) + "\n");
        Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static RouterHead load(Path path) throws LadderException {
        JsonNode o;
        try {
            o = JSON.readTree(path.toFile());
        } catch (IOException e) {
            throw new LadderException(path, null, "cannot read router file: " + e.getMessage(), e);
        }
        return fromJson(path, o);
    }

    public static RouterHead fromJson(Path path, JsonNode o) throws LadderException {
        if (o == null || !o.isObject()) throw new LadderException(path, null, "router file must hold a JSON object");
        if (!"gearbox-router".equals(o.path("format").asText())) throw new LadderException(path, "format", "not a Gearbox router file (expected \"format\": \"gearbox-router\")");
        if (o.path("version").asInt(-1) != FORMAT_VERSION) throw new LadderException(path, "version", "unsupported version " + o.path("version") + " (expected " + FORMAT_VERSION + ")");
        List<String> tiers = strings(path, o, "tiers");
        List<String> features = strings(path, o, "feature_names");
        double[] means = doubles(path, o, "means", features.size());
        double[] stds = doubles(path, o, "stds", features.size());
        for (int j = 0; j < stds.length; j++) if (!(stds[j] > 0)) throw new LadderException(path, "stds[" + j + "]", "must be positive");
        JsonNode heads = o.path("heads");
        double[][] w = new double[Math.max(0, tiers.size() - 1)][];
        for (int t = 0; t + 1 < tiers.size(); t++) {
            JsonNode h = heads.get(tiers.get(t));
            String at = "heads." + tiers.get(t);
            if (h == null || !h.isObject()) throw new LadderException(path, at, "missing head for tier '" + tiers.get(t) + "'");
            if (!h.path("intercept").isNumber()) throw new LadderException(path, at + ".intercept", "must be a number");
            double[] ws = doubles(path, h, "weights", features.size());
            w[t] = new double[features.size() + 1];
            w[t][0] = h.get("intercept").asDouble();
            System.arraycopy(ws, 0, w[t], 1, ws.length);
        }
        Map<String, Double> th = new LinkedHashMap<>();
        JsonNode thn = o.path("thresholds");
        if (!thn.isMissingNode()) {
            if (!thn.isObject()) throw new LadderException(path, "thresholds", "must be an object of tier name to probability");
            for (var it = thn.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().isNumber()) throw new LadderException(path, "thresholds." + e.getKey(), "must be a number");
                double v = e.getValue().asDouble();
                if (!(v >= 0 && v <= 1)) throw new LadderException(path, "thresholds." + e.getKey(), "must be in [0, 1], got " + v);
                if (!e.getKey().equals(Decision.ENSEMBLE) && !tiers.contains(e.getKey())) throw new LadderException(path, "thresholds." + e.getKey(), "unknown tier");
                th.put(e.getKey(), v);
            }
        }
        Training training = null;
        JsonNode tr = o.get("training");
        if (tr != null && tr.isObject()) {
            Map<String, TierFit> fits = new LinkedHashMap<>();
            for (var it = tr.path("tiers").fields(); it.hasNext(); ) {
                var e = it.next();
                JsonNode f = e.getValue();
                fits.put(e.getKey(), new TierFit(f.path("positives").asInt(), f.path("accuracy").asDouble(), f.path("log_loss").asDouble(), f.path("iterations").asInt()));
            }
            training = new Training(tr.path("examples").asInt(), tr.path("l2").asDouble(), fits);
        }
        try {
            return new RouterHead(features, tiers, means, stds, w, th, training);
        } catch (IllegalArgumentException e) {
            throw new LadderException(path, null, e.getMessage(), e);
        }
    }

    /** Throws unless this head was trained for these features and tiers. */
    public void checkCompatible(Path file, List<String> gatekeeperFeatures, List<String> ladderTiers) throws LadderException {
        if (!featureNames.equals(gatekeeperFeatures)) {
            throw new LadderException(file, "feature_names", "the router was trained on " + featureNames.size()
                    + " features that do not match the gatekeeper's " + gatekeeperFeatures.size() + " (different gatekeeper?); recalibrate");
        }
        if (!tierNames.equals(ladderTiers)) {
            throw new LadderException(file, "tiers", "the router was trained for tiers " + tierNames + " but the ladder has " + ladderTiers + "; recalibrate");
        }
    }

    private static List<String> strings(Path path, JsonNode o, String key) throws LadderException {
        JsonNode a = o.get(key);
        if (a == null || !a.isArray()) throw new LadderException(path, key, "must be a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode x : a) {
            if (!x.isTextual()) throw new LadderException(path, key, "must be a list of strings");
            out.add(x.asText());
        }
        return out;
    }

    private static double[] doubles(Path path, JsonNode o, String key, int n) throws LadderException {
        JsonNode a = o.get(key);
        if (a == null || !a.isArray()) throw new LadderException(path, key, "must be a list of numbers");
        if (a.size() != n) throw new LadderException(path, key, "has " + a.size() + " values, expected " + n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if (!a.get(i).isNumber()) throw new LadderException(path, key + "[" + i + "]", "must be a number");
            out[i] = a.get(i).asDouble();
            if (!Double.isFinite(out[i])) throw new LadderException(path, key + "[" + i + "]", "must be finite");
        }
        return out;
    }

    @Override
    public String toString() {
        return "RouterHead" + tierNames + " on " + featureNames.size() + " features, thresholds " + thresholds;
    }
}
