package dev.gearbox.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could be the start of a stop string is held back
 * until the next piece shows whether it is one, so a stop string split across tokens is never
 * emitted, not even in part.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final int longest;
    private final StringBuilder text = new StringBuilder();
    private int emitted;     // text[0, emitted) has been handed out
    private String matched;  // the stop string found, or null

    public StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
        int max = 0;
        for (String s : stops) max = Math.max(max, s.length());
        this.longest = max;
    }

    /** Adds generated text and returns the part that is safe to show now. */
    public String add(String piece) {
        if (matched != null) throw new IllegalStateException("already stopped at " + matched);
        text.append(piece);
        // Every possible start of a stop string lies at or after `emitted` (held back text covers the rest).
        int at = -1;
        for (String s : stops) {
            int i = text.indexOf(s, emitted);
            if (i >= 0 && (at < 0 || i < at)) {
                at = i;
                matched = s;
            }
        }
        if (at >= 0) {
            text.setLength(at);
            return release(at);
        }
        return release(text.length() - heldBack());
    }

    /** Ends the stream: returns whatever was held back. */
    public String finish() {
        return release(text.length());
    }

    public boolean stopped() {
        return matched != null;
    }

    /** The stop string that ended the text, or null. */
    public String matched() {
        return matched;
    }

    /** All text up to (not including) the stop string. */
    public String text() {
        return text.toString();
    }

    private String release(int upTo) {
        String out = text.substring(emitted, upTo);
        emitted = upTo;
        return out;
    }

    private boolean startsWith(String stop, int from, int len) {
        for (int i = 0; i < len; i++) if (text.charAt(from + i) != stop.charAt(i)) return false;
        return true;
    }

    // Length of the longest suffix of the unemitted text that is a proper prefix of a stop string.
    private int heldBack() {
        int available = text.length() - emitted;
        for (int len = Math.min(longest - 1, available); len > 0; len--) {
            int from = text.length() - len;
            for (String s : stops) {
                if (s.length() > len && startsWith(s, from, len)) return len;
            }
        }
        return 0;
    }
}
