package dev.gearbox.svf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Transformer²'s mixture of experts for a new task: z' = Σ αₖ zₖ over experts of one base model
 * (same matrices, same ranks). α may be any real numbers, as the paper's cross-entropy search
 * allows; the rescaling in {@link SvfFactors#reconstruct} keeps each matrix's singular-value sum.
 */
public final class ExpertMixture {
    private ExpertMixture() {}

    public static SvfExpert mix(List<SvfExpert> experts, double[] alpha, String task, String training) {
        if (experts.isEmpty()) throw new IllegalArgumentException("a mixture needs at least one expert");
        if (alpha.length != experts.size()) throw new IllegalArgumentException(experts.size() + " experts but " + alpha.length + " weights");
        SvfExpert first = experts.get(0);
        for (SvfExpert e : experts) {
            if (!e.baseSha256().equals(first.baseSha256()) || !e.tier().equals(first.tier())) {
                throw new IllegalArgumentException("experts '" + first.task() + "' and '" + e.task() + "' adapt different base models or tiers");
            }
            if (!e.z().keySet().equals(first.z().keySet())) {
                throw new IllegalArgumentException("experts '" + first.task() + "' and '" + e.task() + "' adapt different matrices");
            }
        }
        Map<String, float[]> z = new LinkedHashMap<>();
        for (String t : first.z().keySet()) {
            int r = first.z().get(t).length;
            double[] acc = new double[r];
            for (int k = 0; k < experts.size(); k++) {
                float[] zk = experts.get(k).z().get(t);
                if (zk.length != r) throw new IllegalArgumentException("'" + t + "' has rank " + zk.length + " in expert '" + experts.get(k).task() + "', " + r + " in '" + first.task() + "'");
                for (int i = 0; i < r; i++) acc[i] += alpha[k] * zk[i];
            }
            float[] out = new float[r];
            for (int i = 0; i < r; i++) out[i] = (float) acc[i];
            z.put(t, out);
        }
        return new SvfExpert(first.tier(), first.baseSha256(), task, first.matrices(), training, z, null);
    }
}
