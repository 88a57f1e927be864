package dev.gearbox.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One single-token decode step as the Backend calls of a step scope arrive (see
 * {@link StepRecorder}), recorded instead of launched: each operation's launch (a closure) and its
 * arguments (the signature, positions left out). When the step's result is needed (a read, a token
 * choice, the scope's end), {@link DecodeGraphs} replays a CUDA graph captured earlier for the same
 * signature, or captures one now. Because a signature holds every launch argument except the position (which the
 * kernels then read from device memory) and the token (ditto), a replay does exactly what launching
 * the recorded operations would.
 */
final class DecodeStep {
    /** One recorded launch; {@code devicePos} means "read the position from d_pos0". */
    interface Op {
        void run(boolean devicePos);
    }

    private int token;
    private final List<Op> ops = new ArrayList<>();
    private long[] sig = new long[256];
    private int sigLen;
    private int pos = -1;
    private boolean uniformPosition = true;

    /** Notes the step's token, which goes to the device with the position when the step runs. */
    void token(int id) {
        token = id;
    }

    int token() { return token; }

    /** Records an operation with its arguments (an op code first, so different ops never collide). */
    void add(Op op, long... args) {
        ops.add(op);
        if (sigLen + args.length + 1 > sig.length) sig = Arrays.copyOf(sig, Math.max(sig.length * 2, sigLen + args.length + 1));
        sig[sigLen++] = args.length;
        for (long a : args) sig[sigLen++] = a;
    }

    private long seed;
    private int draw;

    /** Notes that the step ends with a token choice: its seed and draw number go to the device with the position. */
    void draw(long seed, int draw) {
        this.seed = seed;
        this.draw = draw;
    }

    long seed() { return seed; }

    int drawNumber() { return draw; }

    /** Notes the position an operation works at: a graph needs them all equal (they are, in one step). */
    void position(int pos0) {
        if (pos == -1) pos = pos0;
        else if (pos != pos0) uniformPosition = false;
    }

    /** The step's position (0 when no operation used one). */
    int position() { return Math.max(pos, 0); }

    /** True when the step can run from device-held position and token, i.e. as a graph. */
    boolean graphable() { return uniformPosition && !ops.isEmpty(); }

    List<Op> ops() { return ops; }

    Signature signature() { return new Signature(Arrays.copyOf(sig, sigLen)); }

    /** Graph cache key: all launch arguments of a step. */
    record Signature(long[] args) {
        @Override
        public boolean equals(Object o) { return o instanceof Signature s && Arrays.equals(args, s.args); }

        @Override
        public int hashCode() { return Arrays.hashCode(args); }
    }
}
