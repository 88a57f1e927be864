package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The server on the real default ladder (models/), over loopback HTTP. */
class GearboxServerTest {
    private static Ladder ladder;
    private static GearboxServer server;
    private static Http http;

    @BeforeAll
    static void start() throws Exception {
        ladder = Ladder.open(Ladder.defaultPath());
        Scheduler scheduler = Scheduler.open(ladder);
        server = new GearboxServer(new SchedulerEngine(scheduler), ladder.maxAnswerTokens(),
                new GearboxServer.Settings("127.0.0.1", 0, 64 * 1024, 10_000));
        http = new Http(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (ladder != null) ladder.close();
    }

    private static String chat(String model, String content, String extra) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],\"temperature\":0" + extra + "}";
    }

    @Test
    void modelsListEveryTierAndAuto() throws Exception {
        HttpResponse<String> r = http.get("/v1/models");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = Http.json(r);
        assertThat(body.get("object").asText()).isEqualTo("list");
        List<String> ids = body.get("data").findValuesAsText("id");
        assertThat(ids).contains("s", "m", "l", "auto");
        assertThat(body.get("data").get(0).get("object").asText()).isEqualTo("model");
    }

    @Test
    void healthIsOk() throws Exception {
        HttpResponse<String> r = http.get("/health");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Http.json(r).get("status").asText()).isEqualTo("ok");
    }

    @Test
    void forcedTierAnswersTheTaskWithUsageAndRouting() throws Exception {
        HttpResponse<String> r = http.post("/v1/chat/completions", chat("l", "add:12+34=", ""));
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode b = Http.json(r);
        assertThat(b.get("object").asText()).isEqualTo("chat.completion");
        JsonNode choice = b.get("choices").get(0);
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asText()).isEqualTo("64");   // 46, least significant digit first
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(b.get("usage").get("completion_tokens").asInt()).isEqualTo(2);
        assertThat(b.get("usage").get("total_tokens").asInt())
                .isEqualTo(b.get("usage").get("prompt_tokens").asInt() + b.get("usage").get("completion_tokens").asInt());
        assertThat(r.headers().firstValue("x-gearbox-tier")).hasValue("l");
        assertThat(b.get("gearbox").get("tier").asText()).isEqualTo("l");
        assertThat(b.get("gearbox").get("source").asText()).isEqualTo("forced");
        assertThat(b.get("gearbox").get("hops").size()).isEqualTo(1);
    }

    @Test
    void autoRoutesThroughTheGatekeeper() throws Exception {
        HttpResponse<String> r = http.post("/v1/chat/completions", chat("auto", "add:1+2=", ""));
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode g = Http.json(r).get("gearbox");
        assertThat(g.get("source").asText()).isIn("router.json", "router-experts.json", "zero-shot");
        assertThat(g.get("probabilities").has("s")).isTrue();
        assertThat(g.get("probabilities").get("l").asDouble()).isEqualTo(1.0);
        assertThat(g.get("gatekeeper_ms").asDouble()).isPositive();
        assertThat(r.headers().firstValue("x-gearbox-tier")).hasValue(g.get("tier").asText());
        assertThat(g.get("hops").size()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void completionStreamsOpenAiChunksEndingWithDone() throws Exception {
        HttpResponse<String> r = http.post("/v1/completions",
                "{\"model\":\"l\",\"prompt\":\"add:12+34=\",\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(r.headers().firstValue("x-gearbox-tier")).hasValue("l");
        List<String> events = Http.events(r.body());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode c = Http.JSON.readTree(e);
            assertThat(c.get("object").asText()).isEqualTo("text_completion");
            if (c.has("usage")) usage = c.get("usage");
            for (JsonNode ch : c.get("choices")) {
                text.append(ch.get("text").asText());
                if (!ch.get("finish_reason").isNull()) finish = ch.get("finish_reason").asText();
            }
        }
        assertThat(text.toString()).isEqualTo("64");
        assertThat(finish).isEqualTo("stop");
        assertThat(usage).isNotNull();
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(2);
        // The usage chunk has no choices, as OpenAI sends it; the last choice chunk carries the routing.
        assertThat(Http.JSON.readTree(events.get(events.size() - 2)).get("choices").size()).isZero();
        assertThat(Http.JSON.readTree(events.get(events.size() - 3)).get("gearbox").get("final_tier").asText()).isEqualTo("l");
    }

    @Test
    void chatStreamStartsWithTheAssistantRole() throws Exception {
        HttpResponse<String> r = http.post("/v1/chat/completions", chat("l", "add:12+34=", ",\"stream\":true"));
        List<String> events = Http.events(r.body());
        JsonNode first = Http.JSON.readTree(events.getFirst());
        assertThat(first.get("object").asText()).isEqualTo("chat.completion.chunk");
        assertThat(first.get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        assertThat(events.getLast()).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode d = Http.JSON.readTree(e).get("choices").get(0).get("delta");
            if (d.has("content")) text.append(d.get("content").asText());
        }
        assertThat(text.toString()).isEqualTo("64");
        assertThat(r.body()).doesNotContain("\"usage\"");   // only with stream_options.include_usage
    }

    @Test
    void stopStringsAndMaxTokensEndTheAnswer() throws Exception {
        JsonNode stopped = Http.json(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"add:12+34=\",\"temperature\":0,\"stop\":[\"4\"]}"));
        assertThat(stopped.get("choices").get(0).get("text").asText()).isEqualTo("6");
        assertThat(stopped.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
        JsonNode cut = Http.json(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"add:12+34=\",\"temperature\":0,\"max_tokens\":1}"));
        assertThat(cut.get("choices").get(0).get("text").asText()).isEqualTo("6");
        assertThat(cut.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        assertThat(cut.get("usage").get("completion_tokens").asInt()).isEqualTo(1);
    }

    @Test
    void seededSamplingIsReproducible() throws Exception {
        String body = "{\"model\":\"s\",\"prompt\":\"mul:3487*3=\",\"temperature\":1.5,\"top_p\":0.9,\"seed\":7}";
        String a = Http.json(http.post("/v1/completions", body)).get("choices").get(0).get("text").asText();
        String b = Http.json(http.post("/v1/completions", body)).get("choices").get(0).get("text").asText();
        assertThat(a).isEqualTo(b);
    }

    private static void assertError(HttpResponse<String> r, int status, String param) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        JsonNode e = Http.json(r).get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.has("type") && e.has("param") && e.has("code")).isTrue();
        if (param != null) assertThat(e.get("param").asText()).isEqualTo(param);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void badRequestsGetOpenAiErrorBodies() throws Exception {
        assertError(http.post("/v1/chat/completions", "{not json"), 400, null);
        assertError(http.post("/v1/chat/completions", "[1,2]"), 400, null);
        assertError(http.post("/v1/chat/completions", "{\"model\":\"auto\"}"), 400, "messages");
        assertError(http.post("/v1/chat/completions", "{\"model\":\"auto\",\"messages\":\"hi\"}"), 400, "messages");
        assertError(http.post("/v1/completions", "{\"model\":\"auto\"}"), 400, "prompt");
        assertError(http.post("/v1/completions", "{\"prompt\":\"x\"}"), 400, "model");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"max_tokens\":-5}"), 400, "max_tokens");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"max_tokens\":\"ten\"}"), 400, "max_tokens");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"max_tokens\":123456789012345678901234567890}"), 400, "max_tokens");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"temperature\":1e400}"), 400, "temperature");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"seed\":1e999}"), 400, "seed");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"stop\":[1]}"), 400, "stop");
        assertError(http.post("/v1/completions", "{\"model\":\"l\",\"prompt\":\"x\",\"stream\":\"yes\"}"), 400, "stream");
        HttpResponse<String> unknown = http.post("/v1/chat/completions", chat("gpt-9", "hi", ""));
        assertError(unknown, 404, "model");
        assertThat(Http.json(unknown).get("error").get("code").asText()).isEqualTo("model_not_found");
        assertError(http.get("/v1/nothing-here"), 404, null);
        assertError(http.send("DELETE", "/v1/models", null), 405, null);
        assertError(http.get("/v1/chat/completions"), 405, null);
    }

    @Test
    void oversizeBodiesAre413AndPromptsOverTheContext400() throws Exception {
        String huge = "{\"model\":\"l\",\"prompt\":\"" + "a".repeat(100_000) + "\"}";
        assertError(http.post("/v1/completions", huge), 413, null);
        // OpenAI's answer to a prompt over the context: 400 context_length_exceeded naming the prompt's field,
        // for a named tier (refused at submit) and for auto (refused after routing), whole and streamed.
        String digits = "1".repeat(400);
        for (String model : List.of("l", "auto")) {
            for (String stream : List.of("false", "true")) {
                HttpResponse<String> completion = http.post("/v1/completions",
                        "{\"model\":\"" + model + "\",\"prompt\":\"" + digits + "\",\"stream\":" + stream + "}");
                assertError(completion, 400, "prompt");
                assertThat(Http.json(completion).get("error").get("code").asText()).isEqualTo("context_length_exceeded");
                assertThat(Http.json(completion).get("error").get("type").asText()).isEqualTo("invalid_request_error");
                HttpResponse<String> chat = http.post("/v1/chat/completions", chat(model, digits, ",\"stream\":" + stream));
                assertError(chat, 400, "messages");
                assertThat(Http.json(chat).get("error").get("code").asText()).isEqualTo("context_length_exceeded");
            }
        }
    }

    private static String text(String model, String prompt, String extra) throws Exception {
        HttpResponse<String> r = http.post("/v1/completions", "{\"model\":\"" + model + "\",\"prompt\":\"" + prompt + "\"" + extra + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r).get("choices").get(0).get("text").asText();
    }

    private static long count(String s, char c) { return s.chars().filter(x -> x == c).count(); }

    @Test
    void penaltiesChangeARepetitiveGreedyAnswer() throws Exception {
        // Tier s reverses "aaaaaaaa" into eight a's: every penalty acts on that repetition.
        String greedy = text("s", "rev:aaaaaaaa=", ",\"temperature\":0");
        assertThat(count(greedy, 'a')).isGreaterThanOrEqualTo(8);
        String frequency = text("s", "rev:aaaaaaaa=", ",\"temperature\":0,\"frequency_penalty\":2");
        assertThat(count(frequency, 'a')).isLessThan(count(greedy, 'a'));
        String encouraged = text("s", "rev:aaaaaaaa=", ",\"temperature\":0,\"frequency_penalty\":-2");
        assertThat(count(encouraged, 'a')).isGreaterThan(count(greedy, 'a'));
        String repetition = text("s", "rev:aaaaaaaa=", ",\"temperature\":0,\"repetition_penalty\":3");
        assertThat(count(repetition, 'a')).isLessThan(count(greedy, 'a'));
        assertThat(text("s", "rev:aaaaaaaa=", ",\"temperature\":0,\"repeat_penalty\":3")).isEqualTo(repetition);   // llama.cpp's name
        // presence counts each token once: a greedy answer with repeated digits changes
        String digits = text("s", "mul:3487*3=", ",\"temperature\":0");
        assertThat(text("s", "mul:3487*3=", ",\"temperature\":0,\"presence_penalty\":2")).isNotEqualTo(digits);
        // the prompt's eight a's are not counted (OpenAI's window: the answer so far): the first a's go unpenalized
        assertThat(frequency).startsWith("aaaa");
    }

    @Test
    void logitBiasForcesAndBans() throws Exception {
        var tok = ladder.tier("s").model().tokenizer();
        int x = tok.encode("x", false, false)[0];
        int a = tok.encode("a", false, false)[0];
        assertThat(text("s", "rev:aaaaaaaa=", ",\"temperature\":0,\"max_tokens\":4,\"logit_bias\":{\"" + x + "\":100}")).isEqualTo("xxxx");
        String banned = text("s", "rev:aaaaaaaa=", ",\"temperature\":0,\"logit_bias\":{\"" + a + "\":-100}");
        assertThat(banned).doesNotContain("a").isNotEmpty();
        // sampled too (the host sampler applies it; a device draw could not)
        String sampled = text("s", "rev:aaaaaaaa=", ",\"temperature\":1,\"seed\":3,\"max_tokens\":6,\"logit_bias\":{\"" + x + "\":100}");
        assertThat(sampled).isEqualTo("xxxxxx");
        // chat too
        JsonNode c = Http.json(http.post("/v1/chat/completions", chat("s", "rev:aaaaaaaa=", ",\"max_tokens\":3,\"logit_bias\":{\"" + x + "\":100}")));
        assertThat(c.get("choices").get(0).get("message").get("content").asText()).isEqualTo("xxx");
    }

    @Test
    void topKAndMinPCutTheDraw() throws Exception {
        String greedy = text("s", "mul:3487*3=", ",\"temperature\":0");
        String hot = ",\"temperature\":1.5,\"seed\":9";
        assertThat(text("s", "mul:3487*3=", hot)).isNotEqualTo(greedy);
        assertThat(text("s", "mul:3487*3=", hot + ",\"top_k\":1")).isEqualTo(greedy);
        assertThat(text("s", "mul:3487*3=", hot + ",\"min_p\":1")).isEqualTo(greedy);
        assertThat(text("s", "mul:3487*3=", hot + ",\"top_k\":0")).isEqualTo(text("s", "mul:3487*3=", hot));   // 0 = off
    }

    @Test
    void negativeSeedsAreSeeds() throws Exception {
        String hot = ",\"temperature\":2";
        String a = text("s", "mul:3487*3=", hot + ",\"seed\":-3");
        assertThat(text("s", "mul:3487*3=", hot + ",\"seed\":-3")).isEqualTo(a);
        assertThat(text("s", "mul:3487*3=", hot + ",\"seed\":-4")).isNotEqualTo(a);
        assertThat(text("s", "mul:3487*3=", hot + ",\"seed\":-9223372036854775808")).isEqualTo(text("s", "mul:3487*3=", hot + ",\"seed\":-9223372036854775808"));
    }

    @Test
    void nullMaxTokenFieldsMeanAbsent() throws Exception {
        String base = "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":\"rev:aaaaaaaa=\"}],\"temperature\":0";
        JsonNode a = Http.json(http.post("/v1/chat/completions", base + ",\"max_tokens\":2,\"max_completion_tokens\":null}"));
        assertThat(a.get("usage").get("completion_tokens").asInt()).isEqualTo(2);
        JsonNode b = Http.json(http.post("/v1/chat/completions", base + ",\"max_completion_tokens\":3,\"max_tokens\":null}"));
        assertThat(b.get("usage").get("completion_tokens").asInt()).isEqualTo(3);
        JsonNode c = Http.json(http.post("/v1/chat/completions", base + ",\"max_completion_tokens\":3,\"max_tokens\":2}"));
        assertThat(c.get("usage").get("completion_tokens").asInt()).isEqualTo(3);   // the newer field wins
        assertError(http.post("/v1/chat/completions", base + ",\"max_completion_tokens\":0}"), 400, "max_completion_tokens");
    }

    @Test
    void samplingFieldsOutOfRangeAre400() throws Exception {
        String p = "{\"model\":\"s\",\"prompt\":\"x\",";
        assertError(http.post("/v1/completions", p + "\"presence_penalty\":2.5}"), 400, "presence_penalty");
        assertError(http.post("/v1/completions", p + "\"frequency_penalty\":-2.01}"), 400, "frequency_penalty");
        assertError(http.post("/v1/completions", p + "\"frequency_penalty\":\"1\"}"), 400, "frequency_penalty");
        assertError(http.post("/v1/completions", p + "\"logit_bias\":{\"abc\":1}}"), 400, "logit_bias");
        assertError(http.post("/v1/completions", p + "\"logit_bias\":{\"-1\":1}}"), 400, "logit_bias");
        assertError(http.post("/v1/completions", p + "\"logit_bias\":{\"304\":1}}"), 400, "logit_bias");   // vocabulary [0, 304)
        assertError(http.post("/v1/completions", "{\"model\":\"auto\",\"prompt\":\"x\",\"logit_bias\":{\"99999\":1}}"), 400, "logit_bias");
        assertError(http.post("/v1/completions", p + "\"logit_bias\":{\"5\":100.5}}"), 400, "logit_bias");
        assertError(http.post("/v1/completions", p + "\"logit_bias\":[1]}"), 400, "logit_bias");
        assertError(http.post("/v1/completions", p + "\"top_k\":-2}"), 400, "top_k");
        assertError(http.post("/v1/completions", p + "\"top_k\":1.5}"), 400, "top_k");
        assertError(http.post("/v1/completions", p + "\"min_p\":1.5}"), 400, "min_p");
        assertError(http.post("/v1/completions", p + "\"repetition_penalty\":0}"), 400, "repetition_penalty");
        assertError(http.post("/v1/completions", p + "\"repeat_penalty\":-1}"), 400, "repeat_penalty");
        assertError(http.post("/v1/completions", p + "\"repeat_penalty\":1.2,\"repetition_penalty\":1.3}"), 400, "repeat_penalty");
        assertThat(ladder.tier("s").vocabSize()).isEqualTo(304);
    }

    @Test
    void garbageNeverTakesTheServerDown() throws Exception {
        String[] bodies = {"", "null", "\"\"", "{\"model\":\"s\",\"prompt\":\"\\ud800\\udfff\\u0000\u00ff\u4e2d\"}",
                "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800\"}]}",
                "{\"model\":\"s\",\"messages\":[{\"role\":1}]}", "{\"model\":{},\"prompt\":[]}", "{\"model\":\"s\",\"prompt\":\"\"}",
                "{".repeat(5000), "\u0000\u0001\u0002"};
        for (String body : bodies) {
            for (String path : List.of("/v1/completions", "/v1/chat/completions")) {
                HttpResponse<String> r = http.post(path, body);
                assertThat(r.statusCode()).as(path + " " + body.substring(0, Math.min(40, body.length()))).isIn(200, 400, 413);
                if (r.statusCode() != 200) assertError(r, r.statusCode(), null);
            }
        }
        assertThat(http.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void metricsExposeTheServingNumbers() throws Exception {
        http.post("/v1/chat/completions", chat("auto", "add:5+5=", ",\"stream\":true"));
        http.post("/v1/completions", "{\"prompt\":\"x\"}");
        HttpResponse<String> r = http.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
        assertThat(r.body()).contains(
                "gearbox_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "gearbox_requests_total{endpoint=\"/v1/completions\",status=\"400\"}",
                "gearbox_time_to_first_token_seconds_count",
                "gearbox_time_per_output_token_seconds_count",
                "gearbox_queue_depth",
                "gearbox_routed_total{tier=\"s\"}",
                "gearbox_routed_total{tier=\"l\"}",
                "gearbox_gatekeeper_latency_seconds_count",
                "gearbox_prompt_tokens_total",
                "gearbox_completion_tokens_total",
                "gearbox_kv_cache_usage_ratio",
                "gearbox_requests_in_flight");
        assertThat(r.body()).doesNotContain("NaN");
    }
}
