package dev.gearbox.spark;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.schedule.Result;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.gearbox.spark.BatchOutputLines.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The DataFrame transformer: answers as the engine gives them, routing columns, chat rows, bad rows, one ladder per JVM. */
class GearboxCompletionsTest {
    static final Path LADDER = Path.of("models/ladder.yaml");

    static List<String> prompts(int n) throws Exception {
        List<String> out = new ArrayList<>();
        List<String> rows = Files.readAllLines(Path.of("models/data/heldout.jsonl"));
        for (int i = 0; i < n; i++) out.add(JSON.readTree(rows.get(100 + i)).get("prompt").asText());
        return out;
    }

    @Test
    void promptColumnAnsweredAsTheEngineAnswersWithRoutingColumns() throws Exception {
        SparkSession spark = SparkTestSession.get();
        List<String> prompts = prompts(16);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) rows.add(RowFactory.create(i, prompts.get(i)));
        rows.add(RowFactory.create(99, null));
        Dataset<Row> df = spark.createDataFrame(rows, new StructType().add("n", DataTypes.IntegerType).add("prompt", DataTypes.StringType)).repartition(3);

        int loadsBefore = ExecutorLadder.loads();
        int maxTokens;
        try (Ladder ladder = Ladder.open(LADDER)) {
            maxTokens = ladder.maxAnswerTokens();   // what LadderEngine.run answers with
        }
        GearboxCompletions gc = new GearboxCompletions().setLadder(LADDER.toString()).setPromptCol("prompt").setMaxTokens(maxTokens);
        List<Row> out = gc.transform(df).orderBy("n").collectAsList();
        assertThat(out).hasSize(17);
        assertThat(gc.transformSchema(df.schema()).fieldNames()).endsWith(GearboxCompletions.OUTPUT_COLUMNS.toArray(String[]::new));

        // The engine's own greedy answers (LadderEngine: route, then the ladder's defaults), independently of the batch path.
        List<String> engine = new ArrayList<>();
        try (Ladder ladder = Ladder.open(LADDER); LadderEngine e = new LadderEngine(ladder)) {
            for (String p : prompts) {
                Result r = e.run(p);
                engine.add(r.tier() + "|" + r.text());
            }
        }
        List<String> tiers = List.of("s", "m", "l");
        for (int i = 0; i < 16; i++) {
            Row r = out.get(i);
            assertThat(r.<String>getAs("error")).isNull();
            assertThat(r.<String>getAs("final_tier") + "|" + r.<String>getAs("answer")).as(prompts.get(i)).isEqualTo(engine.get(i));
            List<String> hops = r.getList(r.fieldIndex("hops"));
            assertThat(hops).isNotEmpty();
            assertThat(hops.getFirst()).isEqualTo(r.<String>getAs("routed_tier"));
            assertThat(hops.getLast()).isEqualTo(r.<String>getAs("final_tier"));
            assertThat(tiers).contains(r.<String>getAs("routed_tier"));
            assertThat(r.<Integer>getAs("prompt_tokens")).isPositive();
            assertThat(r.<Integer>getAs("completion_tokens")).isPositive();
            assertThat(r.<Double>getAs("flops")).isPositive();
            assertThat(r.<Double>getAs("latency_ms")).isPositive();
        }
        Row bad = out.get(16);
        assertThat(bad.<String>getAs("answer")).isNull();
        assertThat(bad.<String>getAs("error")).contains("prompt must be a non-empty string");
        // one ladder for every partition and both transforms on this JVM (at most one opened here, none by the second)
        assertThat(ExecutorLadder.loads() - loadsBefore).isLessThanOrEqualTo(1);
        int afterFirst = ExecutorLadder.loads();
        gc.transform(df.limit(4)).count();
        assertThat(ExecutorLadder.loads()).isEqualTo(afterFirst);
    }

    @Test
    void messagesColumnIsAChatAnsweredLikeItsPromptOnTheDefaultLadder() throws Exception {
        // The default ladder's tiers have no chat template: a chat's prompt is its contents joined by newlines.
        SparkSession spark = SparkTestSession.get();
        List<String> prompts = prompts(6);
        StructType msg = new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType);
        StructType schema = new StructType().add("n", DataTypes.IntegerType).add("prompt", DataTypes.StringType)
                .add("messages", DataTypes.createArrayType(msg));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) rows.add(RowFactory.create(i, prompts.get(i), List.of(RowFactory.create("user", prompts.get(i)))));
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        List<Row> chat = new GearboxCompletions().setLadder(LADDER.toString()).setMessagesCol("messages").setMaxTokens(24).transform(df).orderBy("n").collectAsList();
        List<Row> completion = new GearboxCompletions().setLadder(LADDER.toString()).setPromptCol("prompt").setMaxTokens(24)
                .transform(df.drop("messages")).orderBy("n").collectAsList();
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(chat.get(i).<String>getAs("error")).isNull();
            assertThat(chat.get(i).<String>getAs("answer")).isEqualTo(completion.get(i).<String>getAs("answer"));
            assertThat(chat.get(i).<String>getAs("final_tier")).isEqualTo(completion.get(i).<String>getAs("final_tier"));
        }
    }

    @Test
    void missingOrMistypedColumnsAreClearErrors() {
        StructType schema = new StructType().add("text", DataTypes.StringType).add("count", DataTypes.IntegerType);
        assertThatThrownBy(() -> new GearboxCompletions().transformSchema(schema)).hasMessageContaining("no column 'prompt'");
        assertThatThrownBy(() -> new GearboxCompletions().setPromptCol("count").transformSchema(schema))
                .hasMessageContaining("prompt column 'count' must be a string, got int");
        assertThatThrownBy(() -> new GearboxCompletions().setMessagesCol("text").transformSchema(schema))
                .hasMessageContaining("must be array<struct<role: string, content: string>>");
        assertThatThrownBy(() -> new GearboxCompletions().setPromptCol("text").transformSchema(schema.add("answer", DataTypes.StringType)))
                .hasMessageContaining("already has a column 'answer'");
    }
}
