package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A tiny JDK HTTP client for the server tests. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;

    Http(int port) {
        base = "http://127.0.0.1:" + port;
    }

    HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException { return send("GET", path, null); }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException { return send("POST", path, body); }

    static JsonNode json(HttpResponse<String> r) throws IOException { return JSON.readTree(r.body()); }

    /** The data fields of a server-sent event stream, in order ("[DONE]" included). */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isBlank()) continue;
            if (!block.startsWith("data: ")) throw new AssertionError("not an SSE data event: " + block);
            out.add(block.substring("data: ".length()));
        }
        return out;
    }
}
