package dev.gearbox.calibrate;

import dev.gearbox.SharedData;
import dev.gearbox.tokenizer.ChatTemplate;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DatasetTest {

    @Test
    void promptRowsKeepReferenceGradeAndExtras() {
        List<TaskRow> rows = Dataset.parse("""
                {"id": "a1", "task": "add", "level": 3, "prompt": "12+30=", "reference": "42", "grade": "numeric"}

                {"prompt": "say hi"}
                {"prompt": "sort cba", "reference": "abc"}
                """, "t.jsonl");
        assertThat(rows).hasSize(3);
        TaskRow a = rows.get(0);
        assertThat(a.id()).isEqualTo("a1");
        assertThat(a.text()).isEqualTo("12+30=");
        assertThat(a.reference()).isEqualTo("42");
        assertThat(a.grade()).isEqualTo(GradeMode.NUMERIC);
        assertThat(a.extras()).containsEntry("task", "add").containsEntry("level", 3L);
        assertThat(a.extra("level")).isEqualTo("3");
        TaskRow b = rows.get(1);
        assertThat(b.id()).isEqualTo("line-3");
        assertThat(b.line()).isEqualTo(3);
        assertThat(b.hasReference()).isFalse();
        assertThat(rows.get(2).grade()).isEqualTo(GradeMode.EXACT);
    }

    @Test
    void gsm8kRowsAreGradedNumericallyOnTheFinalAnswer() {
        TaskRow r = Dataset.parse("{\"question\": \"How many?\", \"answer\": \"3 + 4 = <<3+4=7>>7\\n#### 1,007\"}", "g").getFirst();
        assertThat(r.text()).isEqualTo("How many?");
        assertThat(r.reference()).isEqualTo("1,007");
        assertThat(r.grade()).isEqualTo(GradeMode.NUMERIC);
        assertThat(Grader.correct(r, "so the answer is 1007.", null)).isTrue();
        assertThat(r.extras()).isEmpty();
    }

    @Test
    void chatRowsRenderWithTheTierTemplateOrJoinUserTurns() {
        TaskRow r = Dataset.parse("""
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": [{"type": "text", "text": "and 3+3?"}]}]}
                """, "c").getFirst();
        assertThat(r.hasReference()).isFalse();
        assertThat(r.promptFor((dev.gearbox.template.ChatRenderer) null)).isEqualTo("2+2?\nand 3+3?");
        assertThat(r.promptFor(dev.gearbox.template.ChatRenderer.builtIn(ChatTemplate.CHATML, java.util.Map.of()))).isEqualTo(
                "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
                        + "<|im_start|>user\nand 3+3?<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void aTrailingAssistantMessageIsTheReference() {
        TaskRow r = Dataset.parse("{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \" 4 \"}]}", "c").getFirst();
        assertThat(r.reference()).isEqualTo("4");
        assertThat(r.messages()).hasSize(1);
        assertThat(r.promptFor(dev.gearbox.template.ChatRenderer.builtIn(ChatTemplate.CHATML, java.util.Map.of()))).isEqualTo("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void badLinesNameTheLineAndTheReason() {
        assertError("{\"prompt\": \"a\"}\n{oops}\n", "t.jsonl:2: not valid JSON");
        assertError("[1, 2]\n", "t.jsonl:1: expected a JSON object, found array");
        assertError("{\"text\": \"a\"}\n", "t.jsonl:1: a row needs 'prompt', 'messages', 'question' with 'answer', or 'turns' (found keys [text])");
        assertError("{\"prompt\": \"a\", \"grade\": \"fuzzy\", \"reference\": \"b\"}\n", "t.jsonl:1: unknown grade 'fuzzy'");
        assertError("{\"prompt\": \"a\", \"grade\": \"exact\"}\n", "t.jsonl:1: 'grade' is exact but the row has no 'reference'");
        assertError("{\"prompt\": \"a\", \"reference\": \"many\", \"grade\": \"numeric\"}\n", "t.jsonl:1: numeric grade but the reference 'many' is not a number");
        assertError("{\"question\": \"q\", \"answer\": \"no final line\"}\n", "t.jsonl:1: GSM8K 'answer' has no '#### '");
        assertError("{\"prompt\": 5}\n", "t.jsonl:1: 'prompt' must be a string, found number");
        assertError("{\"prompt\": \"  \"}\n", "t.jsonl:1: the prompt is empty");
        assertError("{\"messages\": [{\"role\": \"system\", \"content\": \"x\"}]}\n", "t.jsonl:1: 'messages' has no user message");
        assertError("{\"messages\": [{\"content\": \"x\"}]}\n", "t.jsonl:1: messages[0] needs a 'role' string");
        assertError("\n\n", "t.jsonl: no rows");
    }

    private static void assertError(String jsonl, String message) {
        assertThatThrownBy(() -> Dataset.parse(jsonl, "t.jsonl")).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message);
    }

    @Test
    void missingFileIsNamed(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertThatThrownBy(() -> Dataset.read(dir.resolve("nope.jsonl"))).isInstanceOf(NoSuchFileException.class).hasMessageContaining("nope.jsonl");
    }

    @Test
    void readsTheSharedGsm8kTestSet() throws Exception {
        Path p = SharedData.require("eval/gsm8k/test.jsonl");
        List<TaskRow> rows = Dataset.read(p);
        assertThat(rows).hasSize((int) Files.lines(p).filter(l -> !l.isBlank()).count());
        TaskRow first = rows.getFirst();
        assertThat(first.text()).startsWith("Janet").endsWith("farmers' market?");
        assertThat(first.reference()).isEqualTo("18");
        assertThat(rows).allSatisfy(r -> {
            assertThat(r.grade()).isEqualTo(GradeMode.NUMERIC);
            assertThat(Grader.referenceNumber(r.reference())).isNotNull();
        });
    }

    @Test
    void readsTheSharedMtBenchFirstTurns() throws Exception {
        List<TaskRow> rows = Dataset.read(SharedData.require("eval/mt_bench/question.jsonl"));
        assertThat(rows).hasSize(80);
        TaskRow first = rows.getFirst();
        assertThat(first.id()).isEqualTo("81");
        assertThat(first.text()).startsWith("Compose an engaging travel blog post about a recent trip to Hawaii");
        assertThat(first.text()).doesNotContain("Rewrite your previous response");
        assertThat(first.extra("category")).isEqualTo("writing");
        assertThat(rows).noneMatch(TaskRow::hasReference);
        assertThat(rows.get(14).extra("reference")).startsWith("[\"It means");
    }

    @Test
    void turnReferencesGradeOnlyWithAGrade() {
        List<TaskRow> rows = Dataset.parse("""
                {"turns": ["2+2?", "and 3+3?"], "reference": ["4", "6"]}
                {"turns": ["2+2?", "and 3+3?"], "reference": ["4", "6"], "grade": "numeric"}
                """, "m");
        assertThat(rows.get(0).hasReference()).isFalse();
        assertThat(rows.get(1).reference()).isEqualTo("4");
    }
}
