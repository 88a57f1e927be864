package dev.gearbox.profile;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes spans as a Chrome trace-event file ({@code {"traceEvents": [...]}}, complete events
 * {@code ph: "X"} with {@code ts}/{@code dur} in microseconds), which Perfetto and
 * chrome://tracing open. Tracks (tids): each thread's spans on its own track; each request's
 * queue waits, hops and escalations on a track named after the request; each thread's per-step
 * op totals (category {@code op}, laid from the step's start) on a separate "ops" track, since
 * they are sums rather than one contiguous interval; GPU kernels (category {@code kernel}, timed by
 * CUDA events) on their device's track.
 */
public final class TraceWriter {
    private TraceWriter() { }

    public static void write(List<Span> spans, Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (OutputStream os = Files.newOutputStream(out)) {
            write(spans, os);
        }
    }

    public static void write(List<Span> spans, OutputStream os) throws IOException {
        long t0 = Long.MAX_VALUE;
        for (Span s : spans) t0 = Math.min(t0, s.startNanos);
        Map<String, Integer> tracks = new LinkedHashMap<>();
        try (JsonGenerator g = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("displayTimeUnit", "ms");
            g.writeArrayFieldStart("traceEvents");
            for (Span s : spans) {
                int tid = tracks.computeIfAbsent(track(s), k -> tracks.size() + 1);
                g.writeStartObject();
                g.writeStringField("name", s.name);
                g.writeStringField("cat", s.category);
                g.writeStringField("ph", "X");
                g.writeNumberField("pid", 1);
                g.writeNumberField("tid", tid);
                g.writeNumberField("ts", (s.startNanos - t0) / 1000.0);
                g.writeNumberField("dur", Math.max(0, s.endNanos - s.startNanos) / 1000.0);
                g.writeObjectFieldStart("args");
                String tier = s.tier();
                if (tier != null) g.writeStringField("tier", tier);
                if (s.request != null) g.writeStringField("request", s.request);
                if (s.lane >= 0) g.writeNumberField("lane", s.lane);
                if (s.batch >= 0) g.writeNumberField("batch", s.batch);
                if (s.tokens >= 0) g.writeNumberField("tokens", s.tokens);
                if (s.bytes >= 0) g.writeNumberField("bytes", s.bytes);
                if (s.flops >= 0) g.writeNumberField("flops", s.flops);
                if (s.category.equals("op")) g.writeNumberField("calls", s.calls);
                if (s.detail != null) g.writeStringField("detail", s.detail);
                g.writeStringField("thread", s.threadName);
                g.writeEndObject();
                g.writeEndObject();
            }
            // Track names, so the viewer labels each row.
            g.writeStartObject();
            g.writeStringField("name", "process_name");
            g.writeStringField("ph", "M");
            g.writeNumberField("pid", 1);
            g.writeObjectFieldStart("args");
            g.writeStringField("name", "gearbox");
            g.writeEndObject();
            g.writeEndObject();
            for (Map.Entry<String, Integer> e : tracks.entrySet()) {
                g.writeStartObject();
                g.writeStringField("name", "thread_name");
                g.writeStringField("ph", "M");
                g.writeNumberField("pid", 1);
                g.writeNumberField("tid", e.getValue());
                g.writeObjectFieldStart("args");
                g.writeStringField("name", e.getKey());
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    static String track(Span s) {
        if (s.track != null) return s.track;
        if (s.request != null && (s.category.equals("queue") || s.category.equals("hop"))) return "request " + s.request;
        if (s.category.equals("op")) return s.threadName + " ops";
        return s.threadName;
    }
}
