package dev.gearbox.generate;

import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class ChatSessionTest {
    final FakeModel m = new FakeModel("user:", "hi", "bot:", "hello", "there", "again", "bye");
    final SamplingParams greedy = SamplingParams.builder().temperature(0).build();

    static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }

    @Test
    void secondTurnPrefillsOnlyTheNewTokens() {
        FakeModel.Scripted seq = m.sequence(64, m.id("hello"), m.id("there"), FakeModel.EOS, m.id("again"), FakeModel.EOS);
        ChatSession chat = new ChatSession(new Generator(m.tokenizer()), seq);

        int[] turn1 = {FakeModel.BOS, m.id("user:"), m.id("hi"), m.id("bot:")};
        GenerationResult r1 = chat.reply(turn1, greedy, p -> {});
        assertThat(r1.text()).isEqualTo("hellothere");
        assertThat(chat.cachedTokens()).isEqualTo(turn1.length + 2); // hello, there fed; EOS sampled only

        // The template renders the reply followed by EOS, then the next user message.
        int[] turn2 = concat(turn1, m.ids("hello", "there"), new int[] {FakeModel.EOS}, m.ids("user:", "bye", "bot:"));
        int calls = seq.calls.size();
        GenerationResult r2 = chat.reply(turn2, greedy, p -> {});
        assertThat(seq.calls.get(calls)).containsExactly(FakeModel.EOS, m.id("user:"), m.id("bye"), m.id("bot:"));
        assertThat(r2.promptTokens()).hasSize(4);
        assertThat(r2.text()).isEqualTo("again");
    }

    @Test
    void aConversationThatDivergesFromTheCacheIsCutBackToTheCommonPrefix() {
        FakeModel.Scripted seq = m.sequence(64, m.id("hello"), FakeModel.EOS, m.id("bye"), FakeModel.EOS);
        ChatSession chat = new ChatSession(new Generator(m.tokenizer()), seq);
        int[] turn1 = {FakeModel.BOS, m.id("user:"), m.id("hi"), m.id("bot:")};
        chat.reply(turn1, greedy, p -> {});
        assertThat(chat.cachedTokens()).isEqualTo(5);

        int[] rewritten = {FakeModel.BOS, m.id("user:"), m.id("again"), m.id("bot:")};
        int calls = seq.calls.size();
        chat.reply(rewritten, greedy, p -> {});
        assertThat(seq.calls.get(calls)).containsExactly(m.id("again"), m.id("bot:"));
    }

    @Test
    void theSameConversationAgainRerunsItsLastToken() {
        FakeModel.Scripted seq = m.sequence(64, FakeModel.EOS);
        ChatSession chat = new ChatSession(new Generator(m.tokenizer()), seq);
        int[] turn = {FakeModel.BOS, m.id("user:"), m.id("bot:")};
        chat.reply(turn, greedy, p -> {});
        chat.reply(turn, greedy, p -> {});
        assertThat(seq.calls.get(1)).containsExactly(m.id("bot:"));
        assertThat(seq.position()).isEqualTo(3);
    }
}
