package dev.gearbox.profile;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A {@link Span} as a JFR event, for Java Mission Control: same name, category and attributes.
 * Only created while a recording is running (see {@link Profiler}), so it costs nothing otherwise.
 */
@Name("dev.gearbox.Span")
@Label("Gearbox span")
@Category({"Gearbox"})
@Description("A region of the request path: gatekeeper, queue wait, prefill, decode step, escalation hop, ensemble step, coarse op totals")
@StackTrace(false)
final class SpanEvent extends Event {
    @Label("Name") String name;
    @Label("Category") String category;
    @Label("Tier") String tier;
    @Label("Request") String request;
    @Label("Lane") int lane;
    @Label("Batch size") int batch;
    @Label("Tokens") long tokens;
    @Label("Bytes moved") @DataAmount long bytes;
    @Label("FLOPs") long flops;
    @Label("Calls") int calls;
    @Label("Detail") String detail;
    @Label("Op time") @Description("For op totals (category op): the summed time of the op in the step") @Timespan long opNanos;

    void fill(Span s) {
        name = s.name;
        category = s.category;
        tier = s.tier();
        request = s.request;
        lane = s.lane;
        batch = s.batch;
        tokens = s.tokens;
        bytes = s.bytes;
        flops = s.flops;
        calls = s.calls;
        detail = s.detail;
        opNanos = s.endNanos - s.startNanos;
    }
}
