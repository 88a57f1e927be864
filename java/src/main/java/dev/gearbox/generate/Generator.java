package dev.gearbox.generate;

import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * The generation loop: one batched forward pass over the prompt, then one token at a time until an
 * end-of-generation token, the token limit, a stop string, or a full context. Text is streamed to
 * a listener as soon as it is known to be final: whole UTF-8 characters only, never part of a stop
 * string, never the text of control tokens.
 */
public final class Generator {

    /** Receives the generated text piece by piece, as it becomes final. */
    @FunctionalInterface
    public interface TextListener {
        void onText(String piece);

        TextListener NONE = piece -> {};
    }

    private final Tokenizer tokenizer;

    public Generator(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Generates after {@code prompt}, which is fed to {@code seq} after whatever it already holds. */
    public GenerationResult generate(LogitSource seq, int[] prompt, SamplingParams params, TextListener listener) {
        return generate(seq, new int[0], prompt, params, listener);
    }

    /**
     * Like {@link #generate(LogitSource, int[], SamplingParams, TextListener)} for a sequence that
     * already holds {@code history} (a chat's earlier turns): only {@code prompt} is prefilled, and
     * the repetition penalties see the history too.
     */
    public GenerationResult generate(LogitSource seq, int[] history, int[] prompt, SamplingParams params, TextListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt has no tokens (nothing to continue from)");
        int room = seq.capacity() - seq.position();
        if (prompt.length > room) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens but the context has room for only "
                    + room + " (context size " + seq.capacity() + "; use a larger --ctx or a shorter prompt)");
        }
        int vocab = tokenizer.vocabSize();
        for (int t : prompt) {
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("prompt token id " + t + " is outside the vocabulary [0, " + vocab + ")");
        }

        Sampler sampler = new Sampler(params);
        sampler.acceptAll(history);
        sampler.acceptAll(prompt);
        Utf8Stream utf8 = new Utf8Stream();
        StopMatcher stops = new StopMatcher(params.stop());
        int limit = params.maxTokens() < 0 ? Integer.MAX_VALUE : params.maxTokens();
        int[] tokens = new int[16];
        float[] logprobs = new float[16];
        int count = 0;
        long prefillNanos, decodeNanos = 0, sampleNanos = 0;
        int decodeSteps = 0;
        StopReason reason;

        // Where the logits live on a device and the settings need only one step's logits, the device
        // chooses and only the token comes back; otherwise the logits come to the host's Sampler.
        TokenChoice onDevice = seq.choosesOnDevice() ? TokenChoice.of(params, sampler.seed()) : null;
        int draws = 0;
        float[] logits = null;
        TokenChoice.Choice chosen = null;

        long t0 = System.nanoTime();
        if (onDevice != null) chosen = seq.forwardChoose(prompt, onDevice, draws);
        else logits = seq.forward(prompt);
        prefillNanos = System.nanoTime() - t0;
        if (logits != null) checkLogits(logits, vocab);

        while (true) {
            if (count >= limit) {
                reason = StopReason.MAX_TOKENS;
                break;
            }
            Sampler.Choice choice;
            if (chosen != null) {
                checkToken(chosen.token(), vocab);
                choice = new Sampler.Choice(chosen.token(), chosen.logprob());
            } else {
                long s0 = System.nanoTime();
                choice = sampler.sample(logits);
                sampleNanos += System.nanoTime() - s0;
            }
            draws++;
            int token = choice.token();
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
                logprobs = Arrays.copyOf(logprobs, count * 2);
            }
            tokens[count] = token;
            logprobs[count] = choice.logprob();
            count++;
            sampler.accept(token);

            if (tokenizer.isEndOfGeneration(token)) {
                reason = StopReason.END_OF_GENERATION;
                break;
            }
            if (!tokenizer.isControl(token)) {
                String piece = stops.add(utf8.accept(tokenizer.tokenBytes(token)));
                if (!piece.isEmpty()) listener.onText(piece);
                if (stops.stopped()) {
                    reason = StopReason.STOP_STRING;
                    break;
                }
            }
            if (count >= limit) {
                reason = StopReason.MAX_TOKENS;
                break;
            }
            if (seq.position() >= seq.capacity()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            long d0 = System.nanoTime();
            if (onDevice != null) chosen = seq.forwardChoose(new int[] {token}, onDevice, draws);
            else logits = seq.forward(new int[] {token});
            decodeNanos += System.nanoTime() - d0;
            decodeSteps++;
        }

        if (reason != StopReason.STOP_STRING) {
            String tail = stops.add(utf8.flush());
            if (!stops.stopped()) tail += stops.finish();
            else reason = StopReason.STOP_STRING;
            if (!tail.isEmpty()) listener.onText(tail);
        }
        return new GenerationResult(prompt.clone(), Arrays.copyOf(tokens, count), stops.text(),
                Arrays.copyOf(logprobs, count), reason, stops.matched(), sampler.seed(),
                prefillNanos, decodeNanos, decodeSteps, sampleNanos);
    }

    private static void checkToken(int token, int vocab) {
        if (token < 0 || token >= vocab) {
            throw new IllegalStateException("the device chose token " + token + " but the vocabulary has " + vocab + " tokens");
        }
    }

    private static void checkLogits(float[] logits, int vocab) {
        if (logits.length != vocab) {
            throw new IllegalStateException("the model returned " + logits.length + " logits but the vocabulary has " + vocab + " tokens");
        }
    }
}
