package dev.gearbox.calibrate;

import java.io.PrintWriter;

/** Progress lines on stderr: at most one every two seconds, and always the last one. */
final class Progress {
    private static final long EVERY_NANOS = 2_000_000_000L;
    private final PrintWriter out;
    private long last = System.nanoTime();

    Progress(PrintWriter out) {
        this.out = out;
    }

    /** Reports step {@code done} of {@code total} with the formatted line, when it is time. */
    void step(int done, int total, String format, Object... args) {
        if (out == null) return;
        long now = System.nanoTime();
        if (done < total && now - last < EVERY_NANOS) return;
        last = now;
        out.printf(format + "%n", args);
        out.flush();
    }
}
