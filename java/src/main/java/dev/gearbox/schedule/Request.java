package dev.gearbox.schedule;

import dev.gearbox.constrain.Grammar;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.template.Conversation;

import java.time.Instant;

/**
 * One generation request for the {@link Scheduler}.
 *
 * @param prompt       the prompt text (tokenized by the chosen tier's tokenizer, BOS added as its metadata says); null when
 *                     {@code promptTokens} is given
 * @param promptTokens the prompt as token ids of the chosen tier's vocabulary, used as is; null when {@code prompt} is given
 * @param model        {@link #AUTO} = the gatekeeper and router pick the tier (escalation and ensemble as the ladder says),
 *                     or a tier's name = that tier only, no gatekeeper, no escalation; {@code "ensemble"} = the ladder's ensemble
 * @param sampling     max tokens (negative = until the context is full), temperature, top-p, seed, stop strings...
 * @param deadline     when the request is abandoned (queued or running) and fails with {@link RequestCancelledException};
 *                     null = none
 * @param listener     receives the routing decision, then the answer's text as it becomes final; {@link StreamListener#NONE}
 *                     when not streaming
 * @param escalate     whether watched tiers may hand the request up the ladder; null = the default, on for {@code auto}
 *                     and off for a named tier (calibration starts a named tier with escalation on to see what routing does)
 * @param topLogprobs  -1 = no per-token log-probabilities; 0 = each answer token's; n = also the n most likely tokens per step
 * @param chat         a conversation, rendered by each tier's own chat template (and the gatekeeper's), instead of
 *                     {@code prompt} or {@code promptTokens}; null for a plain prompt
 * @param grammar      structured output: the answer is decoded as a sentence of it (a JSON schema's grammar...), or null
 */
public record Request(String prompt, int[] promptTokens, String model, SamplingParams sampling, Instant deadline,
                      StreamListener listener, Boolean escalate, int topLogprobs, Conversation chat, Grammar grammar) {
    public static final String AUTO = "auto";

    public Request {
        if ((prompt != null ? 1 : 0) + (promptTokens != null ? 1 : 0) + (chat != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("a request needs exactly one of prompt text, prompt token ids or a conversation");
        }
        if (promptTokens != null && promptTokens.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
        if (model == null || model.isBlank()) throw new IllegalArgumentException("a request needs a model: 'auto' or a tier name");
        if (sampling == null) sampling = SamplingParams.greedy();
        if (listener == null) listener = StreamListener.NONE;
        if (topLogprobs < -1 || topLogprobs > 20) throw new IllegalArgumentException("top_logprobs must be between 0 and 20, got " + topLogprobs);
        promptTokens = promptTokens == null ? null : promptTokens.clone();
    }

    public Request(String prompt, int[] promptTokens, String model, SamplingParams sampling, Instant deadline, StreamListener listener) {
        this(prompt, promptTokens, model, sampling, deadline, listener, null, -1, null, null);
    }

    /** A text request without deadline or streaming. */
    public static Request of(String model, String prompt, SamplingParams sampling) {
        return new Request(prompt, null, model, sampling, null, StreamListener.NONE);
    }

    /** A chat request: each tier renders the conversation with its own chat template. */
    public static Request ofChat(String model, Conversation chat, SamplingParams sampling) {
        return new Request(null, null, model, sampling, null, StreamListener.NONE, null, -1, chat, null);
    }

    public static Request ofTokens(String model, int[] tokens, SamplingParams sampling) {
        return new Request(null, tokens, model, sampling, null, StreamListener.NONE);
    }

    public Request withDeadline(Instant d) { return new Request(prompt, promptTokens, model, sampling, d, listener, escalate, topLogprobs, chat, grammar); }

    public Request withListener(StreamListener l) { return new Request(prompt, promptTokens, model, sampling, deadline, l, escalate, topLogprobs, chat, grammar); }

    public Request withSampling(SamplingParams p) { return new Request(prompt, promptTokens, model, p, deadline, listener, escalate, topLogprobs, chat, grammar); }

    public Request withEscalation(boolean on) { return new Request(prompt, promptTokens, model, sampling, deadline, listener, on, topLogprobs, chat, grammar); }

    /** Decodes the answer under {@code g} (constrained decoding), or unconstrained when null. */
    public Request withGrammar(Grammar g) { return new Request(prompt, promptTokens, model, sampling, deadline, listener, escalate, topLogprobs, chat, g); }

    /** Asks for each answer token's log-probability and the {@code top} most likely tokens per step (0..20). */
    public Request withLogprobs(int top) { return new Request(prompt, promptTokens, model, sampling, deadline, listener, escalate, top, chat, grammar); }

    public boolean auto() { return AUTO.equals(model); }

    /** Whether watched tiers may escalate this request. */
    public boolean escalates() { return escalate != null ? escalate : auto(); }
}
