package dev.gearbox.cli;

import dev.gearbox.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** gearbox chat on stories260K, which has no chat template of its own. */
class ChatCommandTest {

    @Test
    void aModelWithoutAChatTemplateNeedsTemplate() {
        Path m = SharedData.stories260K();
        CliRun r = CliRun.runWithInput("hello\n", "chat", "-m", m.toString());
        MainTest.assertOneLineError(r, "cannot chat", "--template");
    }

    @Test
    void anUnknownTemplateNameIsAnError() {
        Path m = SharedData.stories260K();
        CliRun r = CliRun.runWithInput("hello\n", "chat", "-m", m.toString(), "--template", "bogus");
        MainTest.assertOneLineError(r, "bogus");
    }

    @Test
    void readsEveryLineOfAPipeAndRepliesToEach() {
        Path m = SharedData.stories260K();
        CliRun r = CliRun.runWithInput("Once upon a time\n\nThe dog ran\n", "chat", "-m", m.toString(),
                "--template", "llama2", "--system", "Tell stories.", "-n", "6", "--temp", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().split("\n", -1)).hasSize(3); // two replies, each ending in a newline
        CliRun again = CliRun.runWithInput("Once upon a time\n\nThe dog ran\n", "chat", "-m", m.toString(),
                "--template", "llama2", "--system", "Tell stories.", "-n", "6", "--temp", "0");
        assertThat(again.out()).isEqualTo(r.out());
    }

    @Test
    void exitCommandEndsTheSession() {
        Path m = SharedData.stories260K();
        CliRun r = CliRun.runWithInput("/exit\nnever read\n", "chat", "-m", m.toString(), "--template", "chatml", "-n", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
    }
}
