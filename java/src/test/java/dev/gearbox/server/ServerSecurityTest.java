package dev.gearbox.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Who may talk to the server: API keys, the Host check against DNS rebinding, browsers' origins and CORS. */
class ServerSecurityTest {
    private GearboxServer server;

    private int start(Security.Options o) {
        server = new GearboxServer(new ServerProtocolTest.OkEngine(), 8,
                new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 5_000).withSecurity(o));
        return server.port();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private static Raw.Response get(int port, String path, String... headers) throws Exception {
        StringBuilder r = new StringBuilder("GET " + path + " HTTP/1.1\r\nConnection: close\r\n");
        boolean host = false;
        for (String h : headers) {
            r.append(h).append("\r\n");
            host |= h.regionMatches(true, 0, "Host:", 0, 5);
        }
        if (!host) r.append("Host: 127.0.0.1:").append(port).append("\r\n");
        return Raw.exchange(port, r.append("\r\n").toString());
    }

    private static Raw.Response completion(int port, String... headers) throws Exception {
        String[] all = new String[headers.length + 1];
        System.arraycopy(headers, 0, all, 0, headers.length);
        all[headers.length] = "X-Test: 1";
        return Raw.exchange(port, Raw.post("/v1/completions", "application/json",
                "{\"model\":\"s\",\"prompt\":\"x\"}".getBytes(StandardCharsets.UTF_8), all));
    }

    @Test
    void apiKeysGuardTheApiButNotProbes() throws Exception {
        int port = start(new Security.Options(List.of("sk-one", "sk-two"), false, List.of()));
        Raw.Response none = get(port, "/v1/models");
        ServerProtocolTest.assertOpenAiError(none, 401);
        assertThat(none.json().get("error").get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(none.header("WWW-Authenticate")).startsWith("Bearer");
        Raw.Response wrong = get(port, "/v1/models", "Authorization: Bearer sk-on");
        ServerProtocolTest.assertOpenAiError(wrong, 401);
        assertThat(wrong.body()).doesNotContain("sk-on");   // the key presented is never echoed
        ServerProtocolTest.assertOpenAiError(get(port, "/v1/models", "Authorization: Basic c2stb25lOg=="), 401);
        ServerProtocolTest.assertOpenAiError(get(port, "/v1/models", "Authorization: Bearer sk-one-and-more"), 401);
        ServerProtocolTest.assertOpenAiError(completion(port), 401);
        ServerProtocolTest.assertOpenAiError(get(port, "/v1/nothing-here"), 401);   // unknown paths say nothing without a key
        assertThat(get(port, "/v1/models", "Authorization: Bearer sk-one").status()).isEqualTo(200);
        assertThat(get(port, "/v1/models", "Authorization: bearer sk-two").status()).isEqualTo(200);
        assertThat(completion(port, "Authorization: Bearer sk-two").status()).isEqualTo(200);
        assertThat(get(port, "/health").status()).isEqualTo(200);
        Raw.Response metrics = get(port, "/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("gearbox_requests_total{endpoint=\"/v1/models\",status=\"401\"}");
    }

    @Test
    void probesCanBeProtectedToo() throws Exception {
        int port = start(new Security.Options(List.of("sk-one"), true, List.of()));
        ServerProtocolTest.assertOpenAiError(get(port, "/health"), 401);
        ServerProtocolTest.assertOpenAiError(get(port, "/metrics"), 401);
        assertThat(get(port, "/health", "Authorization: Bearer sk-one").status()).isEqualTo(200);
        assertThat(get(port, "/metrics", "Authorization: Bearer sk-one").status()).isEqualTo(200);
        assertThatThrownBy(() -> new Security.Options(List.of(), true, List.of())).hasMessageContaining("API key");
        assertThatThrownBy(() -> new Security.Options(List.of("has space"), false, List.of())).hasMessageContaining("API key");
    }

    @Test
    void onLoopbackTheHostHeaderMustNameThisMachine() throws Exception {
        int port = start(Security.Options.open());
        for (String host : List.of("127.0.0.1", "127.0.0.1:" + port, "localhost", "LOCALHOST:8080", "[::1]", "[::1]:" + port)) {
            assertThat(get(port, "/v1/models", "Host: " + host).status()).as(host).isEqualTo(200);
        }
        // a rebound name (evil.example now resolving to 127.0.0.1) or anything else is refused
        for (String host : List.of("evil.example", "evil.example:" + port, "localhost.evil.example", "127.0.0.1.nip.io", "127.0.0.2")) {
            Raw.Response r = get(port, "/v1/models", "Host: " + host);
            ServerProtocolTest.assertOpenAiError(r, 403);
            assertThat(r.json().get("error").get("code").asText()).as(host).isEqualTo("host_not_allowed");
        }
        ServerProtocolTest.assertOpenAiError(completion(port, "Host: evil.example"), 403);
        ServerProtocolTest.assertOpenAiError(get(port, "/v1/models", "Host: [::1]x"), 400);   // Jetty's parser refuses it first
        assertThat(Security.isLoopback("127.0.0.1")).isTrue();
        assertThat(Security.isLoopback("::1")).isTrue();
        assertThat(Security.isLoopback("[::1]")).isTrue();
        assertThat(Security.isLoopback("localhost")).isTrue();
        assertThat(Security.isLoopback("0.0.0.0")).isFalse();
        assertThat(Security.isLoopback("192.168.1.10")).isFalse();
        assertThat(Security.isLoopback("example.com")).isFalse();
    }

    @Test
    void crossOriginBrowsersAreRefusedUnlessAllowed() throws Exception {
        int port = start(Security.Options.open());
        Raw.Response r = completion(port, "Origin: http://evil.example");
        ServerProtocolTest.assertOpenAiError(r, 403);
        assertThat(r.json().get("error").get("code").asText()).isEqualTo("origin_not_allowed");
        ServerProtocolTest.assertOpenAiError(get(port, "/v1/models", "Origin: null"), 403);
        ServerProtocolTest.assertOpenAiError(get(port, "/health", "Origin: http://localhost:3000"), 403);   // another local port is another origin
        ServerProtocolTest.assertOpenAiError(Raw.exchange(port, preflight(port, "http://evil.example")), 403);
        // the server's own origin is not cross-origin
        assertThat(get(port, "/v1/models", "Origin: http://127.0.0.1:" + port).status()).isEqualTo(200);
    }

    private static String preflight(int port, String origin) {
        return "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: " + origin
                + "\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type, x-stainless-os\r\nConnection: close\r\n\r\n";
    }

    @Test
    void allowedOriginsGetCorsAndTheirPreflightsAnswered() throws Exception {
        int port = start(new Security.Options(List.of("sk-one"), false, List.of("http://app.example:5173")));
        Raw.Response pre = Raw.exchange(port, preflight(port, "http://app.example:5173"));
        assertThat(pre.status()).as(pre.head()).isEqualTo(204);   // no key needed: a preflight carries none
        assertThat(pre.header("Access-Control-Allow-Origin")).isEqualTo("http://app.example:5173");
        assertThat(pre.header("Access-Control-Allow-Methods")).contains("POST");
        assertThat(pre.header("Access-Control-Allow-Headers")).contains("authorization").contains("x-stainless-os");
        Raw.Response r = completion(port, "Origin: http://app.example:5173", "Authorization: Bearer sk-one");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Access-Control-Allow-Origin")).isEqualTo("http://app.example:5173");
        assertThat(r.header("Access-Control-Expose-Headers")).contains("x-gearbox-tier");
        Raw.Response noKey = completion(port, "Origin: http://app.example:5173");
        ServerProtocolTest.assertOpenAiError(noKey, 401);
        assertThat(noKey.header("Access-Control-Allow-Origin")).isEqualTo("http://app.example:5173");   // the page can read why
        ServerProtocolTest.assertOpenAiError(completion(port, "Origin: http://other.example", "Authorization: Bearer sk-one"), 403);
        server.close();
        int any = start(new Security.Options(List.of(), false, List.of("*")));
        assertThat(completion(any, "Origin: http://whoever.example").status()).isEqualTo(200);
        assertThat(Raw.exchange(any, preflight(any, "http://whoever.example")).status()).isEqualTo(204);
        assertThatThrownBy(() -> new Security.Options(List.of(), false, List.of("http://app.example/path"))).hasMessageContaining("origin");
    }
}
