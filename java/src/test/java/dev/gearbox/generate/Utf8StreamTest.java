package dev.gearbox.generate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8StreamTest {

    static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) out[i] = (byte) b[i];
        return out;
    }

    @Test
    void asciiPassesStraightThrough() {
        Utf8Stream s = new Utf8Stream();
        assertThat(s.accept("Hello, world".getBytes(StandardCharsets.UTF_8))).isEqualTo("Hello, world");
        assertThat(s.hasPending()).isFalse();
        assertThat(s.flush()).isEmpty();
    }

    @Test
    void twoAndThreeByteCharactersSplitAcrossTokens() {
        Utf8Stream s = new Utf8Stream();
        assertThat(s.accept(bytes('c', 'a', 'f', 0xC3))).isEqualTo("caf");
        assertThat(s.hasPending()).isTrue();
        assertThat(s.accept(bytes(0xA9, ' ', 0xE2))).isEqualTo("é ");
        assertThat(s.accept(bytes(0x82))).isEmpty();
        assertThat(s.accept(bytes(0xAC))).isEqualTo("€");
        assertThat(s.flush()).isEmpty();
    }

    @Test
    void fourByteEmojiOneByteAtATime() {
        byte[] emoji = "🦙".getBytes(StandardCharsets.UTF_8);
        assertThat(emoji).hasSize(4);
        Utf8Stream s = new Utf8Stream();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            String piece = s.accept(new byte[] {emoji[i]});
            assertThat(piece).isEmpty();
        }
        out.append(s.accept(new byte[] {emoji[3]}));
        assertThat(out.toString()).isEqualTo("🦙");
        assertThat(out.toString().codePointCount(0, out.length())).isEqualTo(1);
    }

    @Test
    void mixedTextSplitAtEveryPossiblePointDecodesLikeJava() {
        String text = "añ€🦙z日本語😀!";
        byte[] all = text.getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= all.length; cut++) {
            Utf8Stream s = new Utf8Stream();
            String out = s.accept(all, 0, cut) + s.accept(all, cut, all.length - cut) + s.flush();
            assertThat(out).as("split at byte %d", cut).isEqualTo(text);
        }
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        Utf8Stream s = new Utf8Stream();
        assertThat(s.accept(bytes(0x80))).isEqualTo("\uFFFD");                 // stray continuation
        assertThat(s.accept(bytes(0xC0, 0xAF))).isEqualTo("\uFFFD\uFFFD");     // overlong lead byte
        assertThat(s.accept(bytes(0xFF, 'a'))).isEqualTo("\uFFFDa");
        assertThat(s.accept(bytes(0xE2, 0x82, 'b'))).isEqualTo("\uFFFDb");      // cut short by ASCII
        assertThat(s.accept(bytes(0xED, 0xA0, 0x80))).isEqualTo("\uFFFD\uFFFD\uFFFD"); // a surrogate
        assertThat(s.accept(bytes(0xE2, 0xC3, 0xA9))).isEqualTo("\uFFFDé");     // new lead restarts
    }

    @Test
    void invalidInputMatchesJavasDecoder() {
        byte[] messy = bytes('x', 0xF0, 0x9F, 0x98, 'y', 0xF4, 0x90, 0x80, 0x80, 0xE0, 0x80, 0xC2, 0xA2, 0xF0);
        Utf8Stream s = new Utf8Stream();
        StringBuilder out = new StringBuilder();
        for (byte b : messy) out.append(s.accept(new byte[] {b}));
        out.append(s.flush());
        assertThat(out.toString()).isEqualTo(new String(messy, StandardCharsets.UTF_8));
    }

    @Test
    void flushReplacesADanglingPartialCharacterOnce() {
        Utf8Stream s = new Utf8Stream();
        assertThat(s.accept(bytes('o', 'k', 0xF0, 0x9F, 0xA6))).isEqualTo("ok");
        assertThat(s.flush()).isEqualTo("\uFFFD");
        assertThat(s.hasPending()).isFalse();
        assertThat(s.flush()).isEmpty();
        assertThat(s.accept(bytes('a'))).isEqualTo("a");
    }
}
