package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Raw HTTP/1.1 over a socket, for what java.net.http will not send: bad bytes, bad paths, huge
 * headers, a body cut short. The request is sent as given; the response is read to the close.
 */
final class Raw {
    private Raw() {}

    record Response(int status, String head, String body) {
        String header(String name) {
            for (String line : head.split("\r\n")) {
                int c = line.indexOf(':');
                if (c > 0 && line.substring(0, c).strip().equalsIgnoreCase(name)) return line.substring(c + 1).strip();
            }
            return null;
        }

        JsonNode json() throws IOException { return Http.JSON.readTree(body); }
    }

    /** A POST with {@code body} (as bytes) and the given Content-Type (null = none). */
    static byte[] post(String path, String contentType, byte[] body, String... headers) {
        StringBuilder h = new StringBuilder("POST " + path + " HTTP/1.1\r\nConnection: close\r\n");
        boolean host = false;
        for (String x : headers) host |= x.regionMatches(true, 0, "Host:", 0, 5);
        if (!host) h.append("Host: 127.0.0.1\r\n");
        if (contentType != null) h.append("Content-Type: ").append(contentType).append("\r\n");
        for (String x : headers) h.append(x).append("\r\n");
        h.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    static Response exchange(int port, byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            String text = got.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String head = split < 0 ? text : text.substring(0, split);
            String body = split < 0 ? "" : text.substring(split + 4);
            if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) body = dechunk(body);
            String[] statusLine = head.split("\r\n", 2)[0].split(" ");
            int status = statusLine.length > 1 ? Integer.parseInt(statusLine[1]) : -1;
            return new Response(status, head, body);
        }
    }

    static Response exchange(int port, String request) throws IOException {
        return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String dechunk(String body) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < body.length()) {
            int eol = body.indexOf("\r\n", i);
            if (eol < 0) break;
            int n = Integer.parseInt(body.substring(i, eol).split(";")[0].strip(), 16);
            if (n == 0) break;
            out.append(body, eol + 2, eol + 2 + n);
            i = eol + 2 + n + 2;
        }
        return out.toString();
    }
}
