package dev.gearbox.server;

import io.javalin.http.Context;

import java.io.IOException;

/**
 * A client that went away before its request was read or answered (it closed the connection in
 * the middle of its body, say) is not a server error: it is counted as status 499 (nginx's
 * "client closed request"), and logged as one line without a stack trace. Jetty 12 reports a body
 * cut short as {@code org.eclipse.jetty.http.HttpEofException: Early EOF} (an IOException) thrown
 * from Javalin's body read, which reaches the route's exception handler.
 */
final class ClientGone {
    static final int STATUS = 499;

    private ClientGone() {}

    /** True when an I/O failure on the connection is behind {@code e} (Jetty's EofException, a reset, a closed stream). */
    static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof IOException) return true;
        }
        return false;
    }

    static void log(Context ctx, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        System.err.println("gearbox serve: client went away during " + ctx.method() + " " + ctx.path()
                + " (" + root.getClass().getSimpleName() + (root.getMessage() != null ? ": " + root.getMessage() : "") + ")");
    }
}
