package dev.gearbox.server;

import io.javalin.http.Context;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who may talk to the server, checked before every route:
 * <ol>
 *   <li>DNS rebinding: bound to a loopback address, the {@code Host} header must name the machine
 *       itself ({@code localhost}, {@code 127.0.0.1}, {@code [::1]}, any port), else 403. A web
 *       page whose name was re-pointed at 127.0.0.1 sends its own name there.</li>
 *   <li>Browsers: a request with an {@code Origin} header that is not the server's own origin is
 *       refused (403) unless {@link Options#corsOrigins()} allows it; then CORS preflights
 *       ({@code OPTIONS}) are answered and the responses carry the CORS headers.</li>
 *   <li>API keys: with {@link Options#apiKeys()}, every path needs
 *       {@code Authorization: Bearer KEY} (401 {@code invalid_api_key} otherwise) except
 *       {@code /health} and {@code /metrics}, unless {@link Options#protectHealthAndMetrics()}.
 *       Keys are compared as SHA-256 digests with {@link MessageDigest#isEqual}, against every key,
 *       so the time taken says nothing about how much of a key was right or which key matched.</li>
 * </ol>
 */
public final class Security {
    /**
     * @param apiKeys                 keys a client may present; empty = no key needed
     * @param protectHealthAndMetrics {@code /health} and {@code /metrics} need a key too
     * @param corsOrigins             browser origins allowed cross-origin ({@code scheme://host[:port]}), or {@code *} for any
     */
    public record Options(List<String> apiKeys, boolean protectHealthAndMetrics, List<String> corsOrigins) {
        public Options {
            apiKeys = List.copyOf(apiKeys);
            corsOrigins = List.copyOf(corsOrigins);
            for (String k : apiKeys) {
                if (k.isBlank() || !k.equals(k.strip()) || k.chars().anyMatch(c -> c <= ' ' || c > '~'))
                    throw new IllegalArgumentException("an API key must be printable ASCII without spaces");
            }
            if (protectHealthAndMetrics && apiKeys.isEmpty())
                throw new IllegalArgumentException("protecting /health and /metrics needs at least one API key");
            for (String o : corsOrigins) {
                if (!o.equals("*") && !normalOrigin(o).equals(o.toLowerCase(Locale.ROOT)))
                    throw new IllegalArgumentException("a CORS origin is scheme://host[:port] (no path) or *, got '" + o + "'");
            }
        }

        /** No keys, no cross-origin browsers. */
        public static Options open() { return new Options(List.of(), false, List.of()); }
    }

    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");
    private static final String EXPOSED = "x-gearbox-tier, Retry-After";

    private final boolean loopback;
    private final List<byte[]> keyDigests = new ArrayList<>();
    private final boolean protectHealthAndMetrics;
    private final boolean anyOrigin;
    private final Set<String> origins;

    public Security(Options o, String bindHost) {
        this.loopback = isLoopback(bindHost);
        for (String k : o.apiKeys()) keyDigests.add(sha256(k));
        this.protectHealthAndMetrics = o.protectHealthAndMetrics();
        this.anyOrigin = o.corsOrigins().contains("*");
        this.origins = Set.copyOf(o.corsOrigins().stream().filter(x -> !x.equals("*")).map(x -> x.toLowerCase(Locale.ROOT)).toList());
    }

    /** Javalin before-handler: refuses (ApiError), answers a preflight (204), or lets the request through. */
    void check(Context ctx) {
        String host = ctx.header("Host");
        if (loopback && host != null && !namesThisMachine(host))
            throw new ApiError(403, "permission_error", null, "host_not_allowed",
                    "The Host header does not name this server (it listens on a loopback address; use localhost or 127.0.0.1)");
        String origin = ctx.header("Origin");
        if (origin != null) {
            if (!sameOrigin(origin, host) && !anyOrigin && !origins.contains(origin.toLowerCase(Locale.ROOT)))
                throw new ApiError(403, "permission_error", null, "origin_not_allowed",
                        "Cross-origin requests from " + origin + " are not allowed (gearbox serve --cors-origin allows an origin)");
            ctx.header("Access-Control-Allow-Origin", origin);
            ctx.header("Vary", "Origin");
            ctx.header("Access-Control-Expose-Headers", EXPOSED);
            if (ctx.method().name().equals("OPTIONS") && ctx.header("Access-Control-Request-Method") != null) {
                // A preflight carries no credentials: answered before the key check, as CORS requires.
                ctx.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
                String asked = ctx.header("Access-Control-Request-Headers");
                ctx.header("Access-Control-Allow-Headers", asked != null && !asked.isBlank() ? asked : "Authorization, Content-Type");
                ctx.header("Access-Control-Max-Age", "600");
                ctx.status(204);
                ctx.skipRemainingHandlers();
                return;
            }
        }
        if (keyDigests.isEmpty()) return;
        String path = ctx.path();
        if (!protectHealthAndMetrics && (path.equals("/health") || path.equals("/metrics"))) return;
        String auth = ctx.header("Authorization");
        String key = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip() : null;
        if (key == null || key.isEmpty()) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                    "You didn't provide an API key: send it as 'Authorization: Bearer KEY'");
        }
        if (!known(key)) {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            throw new ApiError(401, "invalid_request_error", null, "invalid_api_key", "Incorrect API key provided");
        }
    }

    private boolean known(String key) {
        byte[] d = sha256(key);
        boolean match = false;
        for (byte[] k : keyDigests) match |= MessageDigest.isEqual(k, d);   // no early exit
        return match;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** A browser's own page on this server sends its origin as http://HOST, HOST as in the Host header. */
    private static boolean sameOrigin(String origin, String host) {
        return host != null && (origin.equalsIgnoreCase("http://" + host) || origin.equalsIgnoreCase("https://" + host));
    }

    /** {@code localhost}, {@code 127.0.0.1} or {@code [::1]}, with or without a port. */
    static boolean namesThisMachine(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        String name = h, port = null;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) return false;
            name = h.substring(0, end + 1);
            String rest = h.substring(end + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) return false;
                port = rest.substring(1);
            }
        } else {
            int colon = h.indexOf(':');
            if (colon >= 0) {
                name = h.substring(0, colon);
                port = h.substring(colon + 1);
            }
        }
        if (port != null && (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit))) return false;
        return LOOPBACK_NAMES.contains(name);
    }

    /** Whether {@code bindHost} is a loopback literal or {@code localhost} (no DNS lookup). */
    public static boolean isLoopback(String bindHost) {
        String h = bindHost.startsWith("[") && bindHost.endsWith("]") ? bindHost.substring(1, bindHost.length() - 1) : bindHost;
        if (h.equalsIgnoreCase("localhost")) return true;
        try {
            // Only literals are looked at (no DNS): a name other than localhost is not taken for loopback.
            boolean literal = !h.isEmpty() && (h.chars().allMatch(c -> Character.isDigit(c) || c == '.') || h.contains(":"));
            if (literal) return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
        return false;
    }

    private static String normalOrigin(String o) {
        try {
            URI u = new URI(o);
            if (u.getScheme() == null || u.getHost() == null || (u.getRawPath() != null && !u.getRawPath().isEmpty())
                    || u.getRawQuery() != null || u.getRawFragment() != null || u.getRawUserInfo() != null) return "";
            return (u.getScheme() + "://" + u.getHost() + (u.getPort() >= 0 ? ":" + u.getPort() : "")).toLowerCase(Locale.ROOT);
        } catch (Exception e) {
            return "";
        }
    }
}
