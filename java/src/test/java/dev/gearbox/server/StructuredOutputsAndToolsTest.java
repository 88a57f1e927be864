package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.gearbox.ladder.Ladder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Structured outputs and tool calls through the server on the default ladder's tiers (small
 * char-level models that know nothing of JSON: only constrained decoding can make their answers
 * valid), checked with an independent JSON Schema validator.
 */
class StructuredOutputsAndToolsTest {
    private static DefaultLadderServer running;
    private static Ladder ladder;
    private static Http http;
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    @BeforeAll
    static void start() throws Exception {
        running = new DefaultLadderServer(48);
        ladder = running.ladder;
        http = running.http;
    }

    @AfterAll
    static void stop() {
        if (running != null) running.close();
    }

    private static final String SCHEMA = """
            {"type": "object", "properties": {"sum": {"type": "integer", "minimum": 0, "maximum": 999},
             "op": {"enum": ["add", "mul"]}, "ok": {"type": "boolean"}}, "required": ["sum", "op"], "additionalProperties": false}""";

    private static String chat(String model, String extra) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"add:12+34=\"}],\"max_tokens\":200" + extra + "}";
    }

    @Test
    void jsonSchemaAnswersParseAndValidateOnEveryTierAndSeed() throws Exception {
        var validator = SCHEMAS.getSchema(SCHEMA);
        for (String tier : new String[] {"s", "m", "l"}) {
            for (int seed = 1; seed <= 3; seed++) {
                String body = chat(tier, ",\"temperature\":1,\"seed\":" + seed
                        + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\",\"strict\":true,\"schema\":" + SCHEMA + "}}");
                HttpResponse<String> r = http.post("/v1/chat/completions", body);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode b = Http.json(r);
                String content = b.at("/choices/0/message/content").asText();
                assertThat(b.at("/choices/0/finish_reason").asText()).as(content).isEqualTo("stop");
                assertThat(validator.validate(content, InputFormat.JSON)).as("%s seed %d: %s", tier, seed, content).isEmpty();
            }
        }
    }

    @Test
    void jsonObjectAndGbnfGrammarsHoldAndUnsupportedKeywordsAre400() throws Exception {
        // json_object bounds nothing (a key may go on forever), so an answer cut by max_tokens is a
        // valid prefix: it parses, or fails only for want of more input, never for a wrong character.
        for (int seed = 1; seed <= 4; seed++) {
            JsonNode o = Http.json(http.post("/v1/chat/completions", chat("m", ",\"seed\":" + seed + ",\"response_format\":{\"type\":\"json_object\"}")));
            String content = o.at("/choices/0/message/content").asText();
            assertThat(content).startsWith("{");
            if (o.at("/choices/0/finish_reason").asText().equals("stop")) {
                assertThat(Http.JSON.readTree(content).isObject()).as(content).isTrue();
            } else {
                try {
                    Http.JSON.readTree(content);
                } catch (com.fasterxml.jackson.core.io.JsonEOFException cut) {
                    // a prefix of an object: what a cut answer must be
                }
            }
        }
        JsonNode g = Http.json(http.post("/v1/chat/completions", chat("m", ",\"temperature\":0,\"grammar\":\"root ::= [0-9] [0-9]? \\\" apples\\\"\"")));
        assertThat(g.at("/choices/0/message/content").asText()).matches("[0-9]{1,2} apples");
        HttpResponse<String> bad = http.post("/v1/chat/completions", chat("m",
                ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"string\",\"pattern\":\"^a+$\"}}}"));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(Http.json(bad).at("/error/param").asText()).isEqualTo("response_format");
        assertThat(Http.json(bad).at("/error/message").asText()).contains("pattern");
        assertThat(http.post("/v1/chat/completions", chat("m", ",\"grammar\":\"root ::= undefined-rule\"")).statusCode()).isEqualTo(400);
    }

    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "add", "description": "adds", "parameters": {"type": "object",
              "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99}, "b": {"type": "integer", "minimum": 0, "maximum": 99}},
              "required": ["a", "b"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "echo", "parameters": {"type": "object", "properties": {"text": {"type": "string", "maxLength": 8}},
              "required": ["text"], "additionalProperties": false}}}]""";

    @Test
    void requiredAndNamedToolChoicesComeBackAsToolCallsWithValidArguments() throws Exception {
        var addArgs = SCHEMAS.getSchema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"maximum\":99},\"b\":{\"type\":\"integer\",\"maximum\":99}},\"required\":[\"a\",\"b\"],\"additionalProperties\":false}");
        JsonNode named = Http.json(http.post("/v1/chat/completions", chat("l", ",\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"add\"}}")));
        assertThat(named.at("/choices/0/finish_reason").asText()).isEqualTo("tool_calls");
        JsonNode call = named.at("/choices/0/message/tool_calls/0");
        assertThat(call.get("type").asText()).isEqualTo("function");
        assertThat(call.get("id").asText()).startsWith("call_");
        assertThat(call.at("/function/name").asText()).isEqualTo("add");
        assertThat(addArgs.validate(call.at("/function/arguments").asText(), InputFormat.JSON)).isEmpty();
        assertThat(named.at("/choices/0/message/content").isNull()).isTrue();

        JsonNode required = Http.json(http.post("/v1/chat/completions", chat("s", ",\"temperature\":1,\"seed\":7,\"tools\":" + TOOLS + ",\"tool_choice\":\"required\"")));
        assertThat(required.at("/choices/0/message/tool_calls/0/function/name").asText()).isIn("add", "echo");

        // Streamed: the call arrives as a tool_calls delta, the stream ends with finish_reason tool_calls.
        HttpResponse<String> s = http.post("/v1/chat/completions", chat("l", ",\"stream\":true,\"tools\":" + TOOLS + ",\"tool_choice\":\"required\""));
        String finish = null;
        JsonNode delta = null;
        for (String ev : Http.events(s.body())) {
            if (ev.equals("[DONE]")) break;
            JsonNode c = Http.JSON.readTree(ev).at("/choices/0");
            if (c.at("/delta/tool_calls").isArray()) delta = c.at("/delta/tool_calls/0");
            if (c.hasNonNull("finish_reason")) finish = c.get("finish_reason").asText();
        }
        assertThat(finish).isEqualTo("tool_calls");
        assertThat(delta.get("index").asInt()).isZero();
        assertThat(Http.JSON.readTree(delta.at("/function/arguments").asText()).isObject()).isTrue();
    }

    @Test
    void badToolsAre400() throws Exception {
        assertThat(http.post("/v1/chat/completions", chat("s", ",\"tool_choice\":\"required\"")).statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/chat/completions", chat("s", ",\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}")).statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/chat/completions", chat("s", ",\"tools\":[{\"type\":\"function\",\"function\":{}}]")).statusCode()).isEqualTo(400);
    }
}
