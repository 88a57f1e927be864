package dev.gearbox.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.batch.BatchRunner;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Completions as a DataFrame transformation, in the style of a Spark ML transformer:
 * <pre>{@code
 * Dataset<Row> out = new GearboxCompletions().setLadder("models/ladder.yaml").setPromptCol("prompt").transform(df);
 * }</pre>
 * adds {@link #OUTPUT_COLUMNS}: the answer, the routed tier, the final tier, the hops (tiers in
 * order), prompt and completion tokens, FLOPs (gatekeeper and every hop), the request's latency,
 * the finish reason, and {@code error} (null, or why the row got no answer: e.g. a null prompt).
 * With {@link #setMessagesCol} each row is a chat (an array of structs with string {@code role} and
 * {@code content}).
 *
 * <p>Each row becomes an OpenAI Batch input line answered by {@link BatchRunner#answer}, the code
 * that answers {@code gearbox batch}: each partition is routed first, then fed per tier to the
 * executor's one scheduler ({@link ExecutorLadder}). A partition is held in memory while it is
 * answered. Greedy by default ({@code temperature} 0), so a re-run task gives the same answers.
 */
public final class GearboxCompletions implements Serializable {
    /** The columns {@link #transform} adds, in order. */
    public static final List<String> OUTPUT_COLUMNS = List.of("answer", "routed_tier", "final_tier", "hops", "prompt_tokens",
            "completion_tokens", "flops", "latency_ms", "finish_reason", "error");

    private String ladder = "models/ladder.yaml";
    private String promptCol = "prompt";
    private String messagesCol;
    private String model = "auto";
    private Integer maxTokens;
    private double temperature = 0;
    private Long seed;
    private int queue = 64;

    /** The ladder YAML; every executor must be able to read it at this path (made absolute where transform is called). */
    public GearboxCompletions setLadder(String path) {
        this.ladder = path;
        return this;
    }

    /** A string column of completion prompts (default {@code prompt}); ignored when a messages column is set. */
    public GearboxCompletions setPromptCol(String col) {
        this.promptCol = col;
        return this;
    }

    /** An {@code array<struct<role: string, content: string>>} column: each row is a chat. */
    public GearboxCompletions setMessagesCol(String col) {
        this.messagesCol = col;
        return this;
    }

    /** {@code auto} (route, the default), a tier name or {@code ensemble}. */
    public GearboxCompletions setModel(String model) {
        this.model = model;
        return this;
    }

    /** Most answer tokens (default: as {@code gearbox batch}, until end of text or a full context). */
    public GearboxCompletions setMaxTokens(int n) {
        this.maxTokens = n;
        return this;
    }

    /** Sampling temperature in [0, 2] (default 0: greedy). */
    public GearboxCompletions setTemperature(double t) {
        this.temperature = t;
        return this;
    }

    public GearboxCompletions setSeed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Requests waiting per tier on each executor's scheduler (default 64). */
    public GearboxCompletions setQueue(int n) {
        this.queue = n;
        return this;
    }

    /** The schema {@link #transform} gives a DataFrame of schema {@code in}; a clear error when the input column is missing or mistyped. */
    public StructType transformSchema(StructType in) {
        String col = messagesCol != null ? messagesCol : promptCol;
        if (col == null) throw new IllegalArgumentException("GearboxCompletions: set a prompt column or a messages column");
        if (!Arrays.asList(in.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("GearboxCompletions: no column '" + col + "' in " + in.simpleString());
        }
        DataType t = in.apply(col).dataType();
        if (messagesCol != null) {
            if (!(t instanceof ArrayType a && a.elementType() instanceof StructType s
                    && hasString(s, "role") && hasString(s, "content"))) {
                throw new IllegalArgumentException("GearboxCompletions: messages column '" + col
                        + "' must be array<struct<role: string, content: string>>, got " + t.simpleString());
            }
        } else if (!t.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("GearboxCompletions: prompt column '" + col + "' must be a string, got " + t.simpleString());
        }
        for (String c : OUTPUT_COLUMNS) {
            if (Arrays.asList(in.fieldNames()).contains(c)) throw new IllegalArgumentException("GearboxCompletions: the input already has a column '" + c + "'");
        }
        return in.add("answer", DataTypes.StringType)
                .add("routed_tier", DataTypes.StringType)
                .add("final_tier", DataTypes.StringType)
                .add("hops", DataTypes.createArrayType(DataTypes.StringType, false))
                .add("prompt_tokens", DataTypes.IntegerType)
                .add("completion_tokens", DataTypes.IntegerType)
                .add("flops", DataTypes.DoubleType)
                .add("latency_ms", DataTypes.DoubleType)
                .add("finish_reason", DataTypes.StringType)
                .add("error", DataTypes.StringType);
    }

    private static boolean hasString(StructType s, String field) {
        return Arrays.asList(s.fieldNames()).contains(field) && s.apply(field).dataType().equals(DataTypes.StringType);
    }

    public Dataset<Row> transform(Dataset<?> df) {
        StructType out = transformSchema(df.schema());
        var f = new Answer(Path.of(ladder).toAbsolutePath().normalize().toString(), queue, df.schema().fieldIndex(messagesCol != null ? messagesCol : promptCol),
                messagesCol != null, model, maxTokens, temperature, seed);
        return df.toDF().mapPartitions(f, Encoders.row(out));
    }

    private record Answer(String ladder, int queue, int col, boolean chat, String model, Integer maxTokens, double temperature, Long seed)
            implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws IOException {
            ObjectMapper json = new ObjectMapper();
            List<Row> in = new ArrayList<>();
            List<BatchRunner.Line> lines = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                in.add(r);
                lines.add(new BatchRunner.Line(in.size(), json.writeValueAsString(line(json, r, "row-" + in.size()))));
            }
            Map<String, JsonNode> byId = new HashMap<>();
            Map<String, Double> latency = new HashMap<>();
            for (BatchRunner.Output o : ExecutorLadder.runner(ladder, queue).answer(lines)) {
                byId.put(o.customId(), json.readTree(o.json()));
                latency.put(o.customId(), o.latencyMs());
            }
            List<Row> result = new ArrayList<>(in.size());
            for (int i = 0; i < in.size(); i++) {
                String id = "row-" + (i + 1);
                JsonNode o = byId.get(id);
                if (o == null) throw new IllegalStateException("gearbox: no output for " + id + " of this partition");
                result.add(row(in.get(i), o, latency.get(id)));
            }
            return result.iterator();
        }

        private ObjectNode line(ObjectMapper json, Row r, String id) {
            ObjectNode line = json.createObjectNode();
            line.put("custom_id", id);
            line.put("method", "POST");
            line.put("url", chat ? "/v1/chat/completions" : "/v1/completions");
            ObjectNode body = line.putObject("body");
            body.put("model", model);
            body.put("temperature", temperature);
            if (maxTokens != null) body.put("max_tokens", maxTokens);
            if (seed != null) body.put("seed", seed);
            if (chat) {
                ArrayNode msgs = body.putArray("messages");
                if (!r.isNullAt(col)) for (Row m : r.<Row>getList(col)) {
                    ObjectNode o = msgs.addObject();
                    o.put("role", m == null ? null : m.<String>getAs("role"));
                    o.put("content", m == null ? null : m.<String>getAs("content"));
                }
            } else if (r.isNullAt(col)) {
                body.putNull("prompt");
            } else {
                body.put("prompt", r.getString(col));
            }
            return line;
        }

        /** The input row with the answer's columns, read from its OpenAI batch output line. */
        private static Row row(Row r, JsonNode o, double latencyMs) {
            Object[] v = new Object[r.length() + OUTPUT_COLUMNS.size()];
            for (int i = 0; i < r.length(); i++) v[i] = r.get(i);
            int k = r.length();
            JsonNode resp = o.path("response");
            JsonNode body = resp.path("body");
            if (resp.path("status_code").asInt() != 200) {
                String err = body.path("error").path("message").asText(o.path("error").path("message").asText("failed"));
                v[k + 9] = err;
                return RowFactory.create(v);
            }
            JsonNode choice = body.path("choices").path(0);
            JsonNode g = body.path("gearbox");
            v[k] = choice.has("message") ? choice.path("message").path("content").asText() : choice.path("text").asText();
            v[k + 1] = g.path("tier").asText();
            v[k + 2] = g.path("final_tier").asText();
            List<String> hops = new ArrayList<>();
            g.path("hops").forEach(h -> hops.add(h.path("tier").asText()));
            v[k + 3] = scala.jdk.javaapi.CollectionConverters.asScala(hops).toSeq();   // Spark's Row encoder takes a Scala Seq for an array
            v[k + 4] = body.path("usage").path("prompt_tokens").asInt();
            v[k + 5] = body.path("usage").path("completion_tokens").asInt();
            v[k + 6] = g.path("flops").asDouble();   // the gatekeeper's pass and every hop
            v[k + 7] = latencyMs;
            v[k + 8] = choice.path("finish_reason").asText();
            return RowFactory.create(v);
        }
    }
}
