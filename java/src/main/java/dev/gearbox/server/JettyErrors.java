package dev.gearbox.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The errors Jetty answers itself, before a request reaches the routes (a request line or header
 * it cannot parse, headers over the limit (431), an ambiguous or malformed path, a bad message
 * body encoding), in OpenAI's JSON error shape instead of Jetty's HTML page, so that every client
 * parses every error the same way. The message is Jetty's short reason, never a stack trace.
 */
final class JettyErrors extends ErrorHandler {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The body for {@code status}: OpenAI's {@code {"error": {message, type, param, code}}}. */
    static byte[] body(int status, String reason) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode e = o.putObject("error");
        String text = HttpStatus.getMessage(status);
        if (status >= 500) reason = null;   // a server-side reason may carry an exception's text: only the status's name
        e.put("message", reason == null || reason.isBlank() ? "HTTP " + status + " " + text : reason + " (HTTP " + status + ")");
        e.put("type", status >= 500 ? "server_error" : status == 404 ? "not_found_error" : "invalid_request_error");
        e.putNull("param");
        e.put("code", code(status));
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String code(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 413 -> "request_too_large";
            case 414 -> "uri_too_long";
            case 431 -> "request_header_fields_too_large";
            default -> "http_" + status;
        };
    }

    // Errors on a request Jetty parsed (a bad path, an error raised in a handler below the routes).
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        byte[] bytes = body(code, message);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    // Errors on a request Jetty could not parse (a bad request line, 431 headers too large).
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(new HttpField(HttpHeader.CONTENT_TYPE, "application/json"));
        return ByteBuffer.wrap(body(status, reason));
    }

    /** Keeps the error body for every method (Jetty writes none for some by default); the body is small. */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }
}
