package dev.gearbox.generate;

/**
 * Turns the bytes of successive tokens into text, one complete UTF-8 character at a time: byte-level
 * vocabularies split characters (an emoji may take three tokens), so the bytes of a character that
 * has not fully arrived are held until it has. Invalid bytes become U+FFFD, one per maximal invalid
 * subsequence as the Unicode standard recommends (and as Java's decoder does).
 */
public final class Utf8Stream {
    private static final char REPLACEMENT = '\uFFFD';

    private final byte[] pending = new byte[4];
    private int pendingLength;
    private int expected; // total length of the character in `pending`, 0 when none is started

    /** Adds bytes and returns the text of every character they complete (possibly empty). */
    public String accept(byte[] bytes) {
        return accept(bytes, 0, bytes.length);
    }

    public String accept(byte[] bytes, int offset, int length) {
        StringBuilder out = new StringBuilder(length);
        for (int i = offset; i < offset + length; i++) push(bytes[i] & 0xFF, out);
        return out.toString();
    }

    /** True when bytes of an unfinished character are held back. */
    public boolean hasPending() {
        return pendingLength > 0;
    }

    /** Ends the stream: a character left unfinished becomes U+FFFD. Returns "" or that replacement. */
    public String flush() {
        if (pendingLength == 0) return "";
        reset();
        return String.valueOf(REPLACEMENT);
    }

    private void reset() {
        pendingLength = 0;
        expected = 0;
    }

    private void push(int b, StringBuilder out) {
        if (expected == 0) {
            start(b, out);
            return;
        }
        if (!validContinuation(b)) {
            // The started character is cut short: replace what we have, then look at b afresh.
            reset();
            out.append(REPLACEMENT);
            start(b, out);
            return;
        }
        pending[pendingLength++] = (byte) b;
        if (pendingLength == expected) {
            out.appendCodePoint(decode());
            reset();
        }
    }

    private void start(int b, StringBuilder out) {
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            begin(b, 2);
        } else if (b >= 0xE0 && b <= 0xEF) {
            begin(b, 3);
        } else if (b >= 0xF0 && b <= 0xF4) {
            begin(b, 4);
        } else {
            out.append(REPLACEMENT); // stray continuation byte, overlong lead C0/C1, or F5..FF
        }
    }

    private void begin(int lead, int length) {
        pending[0] = (byte) lead;
        pendingLength = 1;
        expected = length;
    }

    // The second byte's range depends on the lead (no overlongs, no surrogates, nothing past U+10FFFF).
    private boolean validContinuation(int b) {
        if (pendingLength == 1) {
            int lead = pending[0] & 0xFF;
            return switch (lead) {
                case 0xE0 -> b >= 0xA0 && b <= 0xBF;
                case 0xED -> b >= 0x80 && b <= 0x9F;
                case 0xF0 -> b >= 0x90 && b <= 0xBF;
                case 0xF4 -> b >= 0x80 && b <= 0x8F;
                default -> b >= 0x80 && b <= 0xBF;
            };
        }
        return b >= 0x80 && b <= 0xBF;
    }

    private int decode() {
        int lead = pending[0] & 0xFF;
        int cp = switch (expected) {
            case 2 -> lead & 0x1F;
            case 3 -> lead & 0x0F;
            default -> lead & 0x07;
        };
        for (int i = 1; i < expected; i++) cp = (cp << 6) | (pending[i] & 0x3F);
        return cp;
    }
}
