package dev.gearbox.generate;

import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Generation on one bare model (no ladder): {@code gearbox generate} and {@code chat}. One batched
 * forward pass over the prompt, then one token at a time; what to choose and when to stop is the
 * shared decode policy, {@link Answer}, the same one the scheduler's requests follow. Text is
 * streamed to a listener as soon as it is final.
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

        Answer answer = new Answer(params, listener::onText);
        int[] seen = Arrays.copyOf(history, history.length + prompt.length);
        System.arraycopy(prompt, 0, seen, history.length, prompt.length);
        answer.startHop(tokenizer, seen, null, true);
        long prefillNanos, decodeNanos = 0, sampleNanos = 0;
        int decodeSteps = 0;

        // Where the logits live on a device and the settings need only one step's logits, the device
        // chooses and only the token comes back; otherwise the logits come to the host's sampler.
        TokenChoice onDevice = seq.choosesOnDevice() ? answer.deviceChoice() : null;
        float[] logits = null;
        TokenChoice.Choice chosen = null;

        long t0 = System.nanoTime();
        if (onDevice != null) chosen = seq.forwardChoose(prompt, onDevice, answer.draws());
        else logits = seq.forward(prompt);
        prefillNanos = System.nanoTime() - t0;

        while (!answer.atLimit()) {
            boolean full = seq.position() >= seq.capacity();
            int token;
            Answer.Step step;
            if (chosen != null) {
                token = chosen.token();
                step = answer.accept(chosen, full);
            } else {
                long s0 = System.nanoTime();
                Sampler.Choice c = answer.choose(logits);
                sampleNanos += System.nanoTime() - s0;
                token = c.token();
                step = answer.accept(c, full);
            }
            if (step != Answer.Step.CONTINUE) break;
            long d0 = System.nanoTime();
            if (onDevice != null) chosen = seq.forwardChoose(new int[] {token}, onDevice, answer.draws());
            else logits = seq.forward(new int[] {token});
            decodeNanos += System.nanoTime() - d0;
            decodeSteps++;
        }
        answer.finish();
        return new GenerationResult(prompt.clone(), answer.tokens(), answer.text(), answer.logprobs(), answer.stopReason(),
                answer.stopString(), answer.seed(), prefillNanos, decodeNanos, decodeSteps, sampleNanos);
    }
}
