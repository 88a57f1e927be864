package dev.gearbox.server;

import dev.gearbox.router.Decision;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Timings;
import dev.gearbox.schedule.Usage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP layer as raw bytes see it: content checks, Jetty's own errors, a body cut short. */
class ServerProtocolTest {
    private static GearboxServer server;

    /** An engine that answers "ok" at once. */
    static final class OkEngine implements CompletionEngine {
        @Override public List<String> tierNames() { return List.of("s"); }
        @Override public Ticket submit(CompletionJob job, CompletionListener l) {
            l.routed(new Routing("s", null));
            l.text("ok");
            l.done(new Result("ok", new int[1], new float[1], new Usage(1, 1), "stop", "s", Decision.forced(List.of("s"), "s"),
                    List.of(), new Timings(0, 0, -1, 0), null));
            return () -> {};
        }
        @Override public int queueDepth() { return 0; }
        @Override public double kvCacheUsage() { return 0; }
        @Override public void close() {}
    }

    @BeforeAll
    static void start() {
        server = new GearboxServer(new OkEngine(), 8, new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 5_000));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static final String OK = "{\"model\":\"s\",\"prompt\":\"x\"}";

    private static Raw.Response get(String path) throws Exception {
        return Raw.exchange(server.port(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    }

    /** OpenAI's error shape, JSON, and nothing of Jetty's HTML page or a stack trace. */
    static void assertOpenAiError(Raw.Response r, int status) throws Exception {
        assertThat(r.status()).as(r.head() + "\n" + r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        var e = r.json().get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.has("type") && e.has("param") && e.has("code")).isTrue();
        assertThat(r.body()).doesNotContain("<html").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void aBodyThatIsNotJsonByContentTypeIs415() throws Exception {
        int port = server.port();
        byte[] ok = OK.getBytes(StandardCharsets.UTF_8);
        assertThat(Raw.exchange(port, Raw.post("/v1/completions", "application/json", ok)).status()).isEqualTo(200);
        assertThat(Raw.exchange(port, Raw.post("/v1/completions", "application/json; charset=utf-8", ok)).status()).isEqualTo(200);
        assertThat(Raw.exchange(port, Raw.post("/v1/completions", "Application/JSON;charset=\"UTF-8\"", ok)).status()).isEqualTo(200);
        for (String type : new String[] {"application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin1", null}) {
            Raw.Response r = Raw.exchange(port, Raw.post("/v1/chat/completions", type,
                    "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}".getBytes(StandardCharsets.UTF_8)));
            assertOpenAiError(r, 415);
            assertThat(r.json().get("error").get("code").asText()).isEqualTo("unsupported_media_type");
        }
    }

    @Test
    void invalidUtf8IsRefusedNotReplaced() throws Exception {
        byte[] bad = "{\"model\":\"s\",\"prompt\":\"a\u00ffb\"}".getBytes(StandardCharsets.ISO_8859_1);   // a lone 0xFF byte
        assertOpenAiError(Raw.exchange(server.port(), Raw.post("/v1/completions", "application/json", bad)), 400);
        byte[] truncated = {'{', '"', 'm', '"', ':', '"', (byte) 0xE4, (byte) 0xB8, '"', '}'};           // half a character
        assertOpenAiError(Raw.exchange(server.port(), Raw.post("/v1/completions", "application/json", truncated)), 400);
        byte[] good = "{\"model\":\"s\",\"prompt\":\"a\u00ff\u4e2d\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(Raw.exchange(server.port(), Raw.post("/v1/completions", "application/json", good)).status()).isEqualTo(200);
    }

    @Test
    void trailingDataAfterTheJsonIs400() throws Exception {
        for (String body : new String[] {OK + " x", OK + OK, OK + " {}", OK + "]"}) {
            assertOpenAiError(Raw.exchange(server.port(), Raw.post("/v1/completions", "application/json", body.getBytes(StandardCharsets.UTF_8))), 400);
        }
        assertThat(Raw.exchange(server.port(), Raw.post("/v1/completions", "application/json", (OK + " \n\t").getBytes(StandardCharsets.UTF_8))).status())
                .isEqualTo(200);   // whitespace is not data
    }

    @Test
    void jettysOwnErrorsAreOpenAiJson() throws Exception {
        int port = server.port();
        Raw.Response big = Raw.exchange(port, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(20_000) + "\r\nConnection: close\r\n\r\n");
        assertOpenAiError(big, 431);
        assertOpenAiError(Raw.exchange(port, "GARBAGE\r\n\r\n"), 400);                                       // no request line Jetty can parse
        assertOpenAiError(Raw.exchange(port, "GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n"), 400);  // HTTP/1.1 without Host
        assertOpenAiError(get("/v1/%2e%2e/%2e%2e/etc"), 400);                                                 // a path escaping the root
        assertOpenAiError(get("/v1/mod%zzels"), 400);                                                         // bad percent-encoding
        assertOpenAiError(get("/v1/models/..;/x"), 400);                                                      // ambiguous path parameter
        assertOpenAiError(get("/v1/models/%c0%ae"), 400);                                                     // overlong UTF-8 in the path
        assertOpenAiError(get("/%00"), 400);
        assertOpenAiError(get("/v1/models%2Fs"), 404);
        assertOpenAiError(Raw.exchange(port, "GET /v1/models HTTP/9.9\r\n\r\n"), 505);
    }

    @Test
    void oneModelByIdInOpenAisShape() throws Exception {
        Raw.Response r = get("/v1/models/s");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("id").asText()).isEqualTo("s");
        assertThat(r.json().get("object").asText()).isEqualTo("model");
        assertThat(r.json().get("owned_by").asText()).isEqualTo("gearbox");
        assertThat(r.json().has("created")).isTrue();
        assertThat(get("/v1/models/auto").json().get("id").asText()).isEqualTo("auto");
        Raw.Response unknown = get("/v1/models/gpt-9");
        assertOpenAiError(unknown, 404);
        assertThat(unknown.json().get("error").get("code").asText()).isEqualTo("model_not_found");
        assertThat(unknown.json().get("error").get("param").asText()).isEqualTo("model");
    }

    @Test
    void answerChangingFieldsWeDoNotImplementAre400NamingThem() throws Exception {
        String[][] refused = {
                {"\"echo\":true", "echo"}, {"\"best_of\":2", "best_of"}, {"\"suffix\":\"end\"", "suffix"},
                {"\"prediction\":{\"type\":\"content\",\"content\":\"x\"}", "prediction"}, {"\"modalities\":[\"text\",\"audio\"]", "modalities"},
                {"\"audio\":{\"voice\":\"alloy\",\"format\":\"wav\"}", "audio"}, {"\"web_search_options\":{}", "web_search_options"},
                {"\"functions\":[{\"name\":\"f\"}]", "functions"}, {"\"function_call\":\"auto\"", "function_call"}};
        for (String[] f : refused) {
            for (String path : List.of("/v1/completions", "/v1/chat/completions")) {
                String body = "{\"model\":\"s\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]," + f[0] + "}";
                Raw.Response r = Raw.exchange(server.port(), Raw.post(path, "application/json", body.getBytes(StandardCharsets.UTF_8)));
                assertOpenAiError(r, 400);
                assertThat(r.json().get("error").get("param").asText()).as(f[0]).isEqualTo(f[1]);
            }
        }
        // neutral values and harmless metadata pass
        String harmless = "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"echo\":false,\"best_of\":1,\"suffix\":null,"
                + "\"modalities\":[\"text\"],\"function_call\":\"none\",\"user\":\"u-1\",\"store\":false,\"metadata\":{\"a\":\"b\"},"
                + "\"service_tier\":\"auto\",\"parallel_tool_calls\":true,\"stream_options\":{\"include_usage\":false,\"include_obfuscation\":false}}";
        assertThat(Raw.exchange(server.port(), Raw.post("/v1/chat/completions", "application/json", harmless.getBytes(StandardCharsets.UTF_8))).status())
                .isEqualTo(200);
        // image and audio parts name their message's content
        for (String part : new String[] {"{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:,\"}}", "{\"type\":\"input_audio\",\"input_audio\":{}}"}) {
            String body = "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}," + part + "]}]}";
            Raw.Response r = Raw.exchange(server.port(), Raw.post("/v1/chat/completions", "application/json", body.getBytes(StandardCharsets.UTF_8)));
            assertOpenAiError(r, 400);
            assertThat(r.json().get("error").get("param").asText()).isEqualTo("messages[0].content");
            assertThat(r.json().get("error").get("message").asText()).containsAnyOf("image", "audio");
        }
    }

    @Test
    void aClientThatHangsUpMidBodyIs499NotAServerError() throws Exception {
        byte[] request = Raw.post("/v1/completions", "application/json", OK.getBytes(StandardCharsets.UTF_8));
        try (var s = new java.net.Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write(request, 0, request.length - 10);   // headers and most of the body, then gone
            s.getOutputStream().flush();
            Thread.sleep(200);
        }
        String scrape = "";
        for (int i = 0; i < 50 && !scrape.contains("status=\"499\""); i++) {
            Thread.sleep(100);
            scrape = get("/metrics").body();
        }
        assertThat(scrape).contains("gearbox_requests_total{endpoint=\"/v1/completions\",status=\"499\"}");
        assertThat(scrape).doesNotContain("status=\"500\"");
    }
}
