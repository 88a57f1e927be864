package dev.gearbox.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.generate.TokenLogprob;

import java.util.List;

/**
 * Per-token log-probabilities in OpenAI's two shapes: chat's {@code {"content": [{token, logprob,
 * bytes, top_logprobs}], "refusal": null}} and the legacy completions' {@code {tokens,
 * token_logprobs, top_logprobs, text_offset}}.
 */
final class LogprobsJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LogprobsJson() {}

    static ObjectNode chat(List<TokenLogprob> tokens) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode content = o.putArray("content");
        for (TokenLogprob t : tokens) {
            ObjectNode e = entry(content.addObject(), t.token(), t.bytes(), t.logprob());
            ArrayNode top = e.putArray("top_logprobs");
            for (TokenLogprob.Alternative a : t.top()) entry(top.addObject(), a.token(), a.bytes(), a.logprob());
        }
        o.putNull("refusal");
        return o;
    }

    /** {@code textOffset}: where the first token's text starts in the answer (streamed chunks continue the count). */
    static ObjectNode completion(List<TokenLogprob> tokens, int textOffset, boolean withTop) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode toks = o.putArray("tokens"), lps = o.putArray("token_logprobs"), offsets = o.putArray("text_offset");
        ArrayNode top = withTop ? o.putArray("top_logprobs") : null;
        if (!withTop) o.putNull("top_logprobs");
        int at = textOffset;
        for (TokenLogprob t : tokens) {
            toks.add(t.token());
            lps.add(t.logprob());
            offsets.add(at);
            at += t.token().length();
            if (top != null) {
                ObjectNode m = top.addObject();
                for (TokenLogprob.Alternative a : t.top()) m.put(a.token(), a.logprob());
            }
        }
        return o;
    }

    private static ObjectNode entry(ObjectNode e, String token, byte[] bytes, float logprob) {
        e.put("token", token);
        e.put("logprob", logprob);
        ArrayNode b = e.putArray("bytes");
        for (byte x : bytes) b.add(x & 0xff);
        return e;
    }
}
