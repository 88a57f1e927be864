package dev.gearbox.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.ladder.LadderException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Transformer²'s first pass, task identification, from the gatekeeper's features: a multinomial
 * logistic regression (softmax over the tasks) on standardised features, trained by
 * {@code gearbox calibrate} on the rows' {@code task} labels. The answer picks the SVF expert that
 * the second pass generates with. The same features the router head reads, so the first pass costs
 * nothing beyond the gatekeeper pass that routing makes anyway.
 *
 * <p>Training is full-batch gradient descent with backtracking on the mean cross-entropy plus
 * {@code l2/2 |W|^2} (intercepts unpenalised): deterministic, in a fixed order.
 */
public final class TaskHead {
    public static final double DEFAULT_L2 = 0.05;
    private static final int ITERATIONS = 3000;

    private final List<String> featureNames;
    private final List<String> tasks;
    private final double[] means, stds;
    /** Per task: [intercept, w_0 .. w_{d-1}] on standardised features. */
    private final double[][] weights;
    private final double trainingAccuracy;
    private final int examples;

    public TaskHead(List<String> featureNames, List<String> tasks, double[] means, double[] stds, double[][] weights,
                    int examples, double trainingAccuracy) {
        int d = featureNames.size();
        if (tasks.size() < 2) throw new IllegalArgumentException("a task head needs at least two tasks, got " + tasks);
        if (means.length != d || stds.length != d) throw new IllegalArgumentException("means/stds do not match " + d + " features");
        if (weights.length != tasks.size()) throw new IllegalArgumentException(weights.length + " weight rows for " + tasks.size() + " tasks");
        for (double[] w : weights) if (w.length != d + 1) throw new IllegalArgumentException("a weight row has " + w.length + " values, expected " + (d + 1));
        this.featureNames = List.copyOf(featureNames);
        this.tasks = List.copyOf(tasks);
        this.means = means.clone();
        this.stds = stds.clone();
        this.weights = new double[weights.length][];
        for (int i = 0; i < weights.length; i++) this.weights[i] = weights[i].clone();
        this.examples = examples;
        this.trainingAccuracy = trainingAccuracy;
    }

    public List<String> tasks() { return tasks; }
    public List<String> featureNames() { return featureNames; }
    public double trainingAccuracy() { return trainingAccuracy; }
    public int examples() { return examples; }

    /** P(task) for each task, in {@link #tasks()} order; they sum to 1. */
    public double[] probabilities(double[] features) {
        if (features.length != featureNames.size()) {
            throw new IllegalArgumentException("the task head takes " + featureNames.size() + " features, got " + features.length);
        }
        double[] z = new double[tasks.size()];
        for (int k = 0; k < z.length; k++) {
            double[] w = weights[k];
            double s = w[0];
            for (int j = 0; j < features.length; j++) s += w[j + 1] * ((features[j] - means[j]) / stds[j]);
            z[k] = s;
        }
        return softmax(z);
    }

    /** The probabilities by task name, in {@link #tasks()} order. */
    public Map<String, Double> named(double[] probabilities) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int k = 0; k < tasks.size(); k++) m.put(tasks.get(k), probabilities[k]);
        return m;
    }

    /** The index of the most probable task (the first on a tie). */
    public static int argmax(double[] p) {
        int best = 0;
        for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
        return best;
    }

    private static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double sum = 0;
        double[] p = new double[z.length];
        for (int k = 0; k < z.length; k++) sum += p[k] = Math.exp(z[k] - max);
        for (int k = 0; k < z.length; k++) p[k] /= sum;
        return p;
    }

    // ---------------------------------------------------------------- training

    /**
     * Trains the head on examples {@code x} (gatekeeper feature vectors) labelled with task indices
     * into {@code tasks}.
     */
    public static TaskHead train(List<String> featureNames, List<String> tasks, double[][] x, int[] labels, double l2) {
        int n = x.length, d = featureNames.size(), k = tasks.size();
        if (n == 0) throw new IllegalArgumentException("no training examples for the task head");
        if (labels.length != n) throw new IllegalArgumentException(n + " examples but " + labels.length + " labels");
        if (!(l2 >= 0) || !Double.isFinite(l2)) throw new IllegalArgumentException("l2 must be a finite number >= 0, got " + l2);
        for (int i = 0; i < n; i++) {
            if (x[i].length != d) throw new IllegalArgumentException("example " + i + " has " + x[i].length + " features, expected " + d);
            if (labels[i] < 0 || labels[i] >= k) throw new IllegalArgumentException("example " + i + " has task index " + labels[i] + ", tasks are 0.." + (k - 1));
            for (double v : x[i]) if (!Double.isFinite(v)) throw new IllegalArgumentException("example " + i + " has a non-finite feature");
        }
        double[] means = new double[d], stds = new double[d];
        for (double[] row : x) for (int j = 0; j < d; j++) means[j] += row[j];
        for (int j = 0; j < d; j++) means[j] /= n;
        for (double[] row : x) for (int j = 0; j < d; j++) stds[j] += (row[j] - means[j]) * (row[j] - means[j]);
        for (int j = 0; j < d; j++) {
            double s = Math.sqrt(stds[j] / n);
            stds[j] = s > 1e-12 ? s : 1;
        }
        double[][] z = new double[n][d + 1];
        for (int i = 0; i < n; i++) {
            z[i][0] = 1;
            for (int j = 0; j < d; j++) z[i][j + 1] = (x[i][j] - means[j]) / stds[j];
        }
        double[][] w = new double[k][d + 1];
        double obj = objective(z, labels, w, l2);
        double step = 1;
        for (int it = 0; it < ITERATIONS; it++) {
            double[][] g = gradient(z, labels, w, l2);
            double gg = 0;
            for (double[] row : g) for (double v : row) gg += v * v;
            if (gg < 1e-18) break;
            step = Math.min(1e3, step * 2);
            double[][] next = new double[k][d + 1];
            double nextObj;
            while (true) {
                for (int c = 0; c < k; c++) for (int j = 0; j <= d; j++) next[c][j] = w[c][j] - step * g[c][j];
                nextObj = objective(z, labels, next, l2);
                if (nextObj <= obj - 0.5 * step * gg || step < 1e-12) break;
                step /= 2;
            }
            double change = obj - nextObj;
            w = next;
            obj = nextObj;
            if (change >= 0 && change < 1e-12) break;
        }
        TaskHead head = new TaskHead(featureNames, tasks, means, stds, w, n, 0);
        int right = 0;
        for (int i = 0; i < n; i++) if (argmax(head.probabilities(x[i])) == labels[i]) right++;
        return new TaskHead(featureNames, tasks, means, stds, w, n, (double) right / n);
    }

    private static double[] logits(double[][] w, double[] zi) {
        double[] s = new double[w.length];
        for (int c = 0; c < w.length; c++) {
            double v = 0;
            for (int j = 0; j < zi.length; j++) v += w[c][j] * zi[j];
            s[c] = v;
        }
        return s;
    }

    private static double objective(double[][] z, int[] y, double[][] w, double l2) {
        double loss = 0;
        for (int i = 0; i < z.length; i++) {
            double[] s = logits(w, z[i]);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : s) max = Math.max(max, v);
            double sum = 0;
            for (double v : s) sum += Math.exp(v - max);
            loss += max + Math.log(sum) - s[y[i]];
        }
        double reg = 0;
        for (double[] row : w) for (int j = 1; j < row.length; j++) reg += row[j] * row[j];
        return loss / z.length + l2 * reg / 2;
    }

    private static double[][] gradient(double[][] z, int[] y, double[][] w, double l2) {
        int k = w.length, d1 = w[0].length, n = z.length;
        double[][] g = new double[k][d1];
        for (int i = 0; i < n; i++) {
            double[] p = softmax(logits(w, z[i]));
            p[y[i]] -= 1;
            for (int c = 0; c < k; c++) {
                double r = p[c] / n;
                if (r == 0) continue;
                double[] gc = g[c];
                for (int j = 0; j < d1; j++) gc[j] += r * z[i][j];
            }
        }
        for (int c = 0; c < k; c++) for (int j = 1; j < d1; j++) g[c][j] += l2 * w[c][j];
        return g;
    }

    // ---------------------------------------------------------------- JSON

    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode o = json.createObjectNode();
        o.put("model", "softmax");
        ArrayNode t = o.putArray("tasks");
        tasks.forEach(t::add);
        ArrayNode fn = o.putArray("feature_names");
        featureNames.forEach(fn::add);
        ArrayNode mn = o.putArray("means");
        for (double v : means) mn.add(v);
        ArrayNode sd = o.putArray("stds");
        for (double v : stds) sd.add(v);
        ObjectNode heads = o.putObject("heads");
        for (int k = 0; k < tasks.size(); k++) {
            ObjectNode h = heads.putObject(tasks.get(k));
            h.put("intercept", weights[k][0]);
            ArrayNode w = h.putArray("weights");
            for (int j = 1; j < weights[k].length; j++) w.add(weights[k][j]);
        }
        ObjectNode tr = o.putObject("training");
        tr.put("examples", examples);
        tr.put("accuracy", trainingAccuracy);
        return o;
    }

    public static TaskHead fromJson(Path path, String at, JsonNode o) throws LadderException {
        if (o == null || !o.isObject()) throw new LadderException(path, at, "must be an object (the task head)");
        List<String> tasks = strings(path, at + ".tasks", o.get("tasks"));
        List<String> features = strings(path, at + ".feature_names", o.get("feature_names"));
        double[] means = doubles(path, at + ".means", o.get("means"), features.size());
        double[] stds = doubles(path, at + ".stds", o.get("stds"), features.size());
        for (int j = 0; j < stds.length; j++) if (!(stds[j] > 0)) throw new LadderException(path, at + ".stds[" + j + "]", "must be positive");
        double[][] w = new double[tasks.size()][];
        for (int k = 0; k < tasks.size(); k++) {
            String hat = at + ".heads." + tasks.get(k);
            JsonNode h = o.path("heads").get(tasks.get(k));
            if (h == null || !h.path("intercept").isNumber()) throw new LadderException(path, hat, "missing head (intercept and weights) for task '" + tasks.get(k) + "'");
            double[] ws = doubles(path, hat + ".weights", h.get("weights"), features.size());
            w[k] = new double[features.size() + 1];
            w[k][0] = h.get("intercept").asDouble();
            System.arraycopy(ws, 0, w[k], 1, ws.length);
        }
        try {
            return new TaskHead(features, tasks, means, stds, w, o.path("training").path("examples").asInt(), o.path("training").path("accuracy").asDouble());
        } catch (IllegalArgumentException e) {
            throw new LadderException(path, at, e.getMessage(), e);
        }
    }

    private static List<String> strings(Path path, String at, JsonNode a) throws LadderException {
        if (a == null || !a.isArray()) throw new LadderException(path, at, "must be a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode x : a) {
            if (!x.isTextual()) throw new LadderException(path, at, "must be a list of strings");
            out.add(x.asText());
        }
        return out;
    }

    private static double[] doubles(Path path, String at, JsonNode a, int n) throws LadderException {
        if (a == null || !a.isArray()) throw new LadderException(path, at, "must be a list of numbers");
        if (a.size() != n) throw new LadderException(path, at, "has " + a.size() + " values, expected " + n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if (!a.get(i).isNumber() || !Double.isFinite(a.get(i).asDouble())) throw new LadderException(path, at + "[" + i + "]", "must be a finite number");
            out[i] = a.get(i).asDouble();
        }
        return out;
    }
}
