package dev.gearbox.server;

import io.javalin.http.Context;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A completion request's body as text, checked before it is parsed: the Content-Type must be
 * JSON (415 otherwise, as a form post or a text/plain body is not what the client meant to
 * send), and the bytes must be UTF-8 (400 otherwise: replacing bad bytes silently would answer a
 * prompt the client did not send).
 */
final class RequestBody {
    private RequestBody() {}

    static String text(Context ctx) {
        String type = ctx.header("Content-Type");
        if (!isJson(type))
            throw new ApiError(415, "invalid_request_error", null, "unsupported_media_type",
                    "The body must be JSON, sent with 'Content-Type: application/json'"
                            + (type == null ? " (the request had no Content-Type)" : " (got '" + type + "')"));
        return utf8(ctx.bodyAsBytes());
    }

    /** application/json with any parameters; a charset, if named, must be UTF-8 (JSON's encoding). */
    static boolean isJson(String contentType) {
        if (contentType == null) return false;
        String[] parts = contentType.split(";");
        if (!parts[0].strip().toLowerCase(Locale.ROOT).equals("application/json")) return false;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip().toLowerCase(Locale.ROOT);
            if (p.startsWith("charset=")) {
                String cs = p.substring("charset=".length()).replace("\"", "");
                if (!cs.equals("utf-8") && !cs.equals("utf8")) return false;
            }
        }
        return true;
    }

    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.invalid(null, "The body is not valid UTF-8");
        }
    }
}
