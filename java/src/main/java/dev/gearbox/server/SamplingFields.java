package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.sample.SamplingParams;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The sampling fields of a request beyond temperature, top_p and seed: OpenAI's
 * {@code presence_penalty}, {@code frequency_penalty} and {@code logit_bias}, and the extras that
 * llama.cpp and vLLM servers accept under these names: {@code top_k}, {@code min_p},
 * {@code repetition_penalty} (vLLM) / {@code repeat_penalty} (llama.cpp). Each is range-checked
 * with a 400 naming it, and each is honored by {@link dev.gearbox.sample.Sampler}.
 *
 * <p>Windows, as the services these names come from use them: presence and frequency penalties
 * count every token generated so far in the answer and never the prompt (OpenAI's definition);
 * the repetition penalty looks at the whole context, prompt and answer (vLLM's).
 *
 * @param logitBias token id to bias; ids are checked against the vocabulary by the engine, which knows it
 * @param topK      null = off (0, or vLLM's -1)
 */
public record SamplingFields(Double presencePenalty, Double frequencyPenalty, Map<Integer, Float> logitBias,
                             Integer topK, Double minP, Double repetitionPenalty) {

    public static final SamplingFields NONE = new SamplingFields(null, null, Map.of(), null, null, null);

    public SamplingFields {
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    }

    public static SamplingFields parse(JsonNode root) {
        Double presence = range(root, "presence_penalty", -2, 2);
        Double frequency = range(root, "frequency_penalty", -2, 2);
        Map<Integer, Float> bias = logitBias(root);
        Integer topK = null;
        JsonNode k = root.get("top_k");
        if (k != null && !k.isNull()) {
            if (!k.isIntegralNumber() || !k.canConvertToInt()) throw ApiError.invalid("top_k", "top_k must be an integer");
            // 0 is llama.cpp's "off", -1 vLLM's; anything else below 0 is a mistake.
            if (k.intValue() < -1) throw ApiError.invalid("top_k", "top_k must be 0 (off) or more, got " + k.intValue());
            topK = k.intValue() <= 0 ? null : k.intValue();
        }
        Double minP = range(root, "min_p", 0, 1);
        Double repetition = positive(root, "repetition_penalty");
        Double repeat = positive(root, "repeat_penalty");
        if (repetition != null && repeat != null && !repetition.equals(repeat))
            throw ApiError.invalid("repeat_penalty", "repetition_penalty and repeat_penalty are the same setting; they disagree ("
                    + repetition + " vs " + repeat + ")");
        return new SamplingFields(presence, frequency, bias, topK, minP, repetition != null ? repetition : repeat);
    }

    /** True when any field here was given (then even a greedy request needs the sampler's settings). */
    public boolean any() {
        return presencePenalty != null || frequencyPenalty != null || !logitBias.isEmpty() || topK != null || minP != null
                || repetitionPenalty != null;
    }

    /** Sets these fields on top of the request's temperature/top_p/seed. */
    public SamplingParams.Builder applyTo(SamplingParams.Builder b) {
        b.penaltyScope(SamplingParams.PenaltyScope.ANSWER).repeatLastN(-1);
        if (presencePenalty != null) b.presencePenalty(presencePenalty.floatValue());
        if (frequencyPenalty != null) b.frequencyPenalty(frequencyPenalty.floatValue());
        if (repetitionPenalty != null) b.repeatPenalty(repetitionPenalty.floatValue());
        if (topK != null) b.topK(topK);
        if (minP != null) b.minP(minP.floatValue());
        return b.logitBias(logitBias);
    }

    // OpenAI's logit_bias: an object whose keys are token ids (as strings) and values -100..100.
    private static Map<Integer, Float> logitBias(JsonNode root) {
        JsonNode lb = root.get("logit_bias");
        if (lb == null || lb.isNull()) return Map.of();
        if (!lb.isObject()) throw ApiError.invalid("logit_bias", "logit_bias must be an object mapping token ids to numbers");
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = lb.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().strip());
            } catch (NumberFormatException nf) {
                throw ApiError.invalid("logit_bias", "logit_bias keys must be integer token ids, got '" + e.getKey() + "'");
            }
            if (id < 0) throw ApiError.invalid("logit_bias", "logit_bias token id " + id + " is negative");
            JsonNode v = e.getValue();
            if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || v.doubleValue() < -100 || v.doubleValue() > 100)
                throw ApiError.invalid("logit_bias", "logit_bias values must be numbers from -100 to 100, got " + v + " for token " + id);
            if (out.put(id, v.floatValue()) != null)
                throw ApiError.invalid("logit_bias", "logit_bias names token " + id + " twice");
        }
        return out;
    }

    private static Double number(JsonNode root, String field) {
        return OpenAiRequest.number(root, field);
    }

    private static Double range(JsonNode root, String field, double min, double max) {
        Double d = number(root, field);
        if (d != null && (d < min || d > max)) throw ApiError.invalid(field, field + " must be between " + fmt(min) + " and " + fmt(max) + ", got " + d);
        return d;
    }

    private static Double positive(JsonNode root, String field) {
        Double d = number(root, field);
        if (d != null && !(d > 0)) throw ApiError.invalid(field, field + " must be greater than 0 (1 = off), got " + d);
        return d;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
