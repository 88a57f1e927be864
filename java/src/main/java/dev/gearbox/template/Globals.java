package dev.gearbox.template;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The functions every template can call: jinja2's {@code range}, {@code dict}, {@code namespace},
 * and the two Hugging Face adds, {@code raise_exception(msg)} and {@code strftime_now(fmt)} (the
 * latter reading the given clock, so tests can fix the date).
 */
final class Globals {
    /** jinja2's sandbox refuses ranges longer than this. */
    static final int MAX_RANGE = 100_000;

    private Globals() {}

    /** What raise_exception throws; the interpreter turns it into a {@link RaisedException} with the call's position. */
    static final class Raise extends RuntimeException {
        Raise(String msg) { super(msg, null, false, false); }
    }

    static Map<String, Object> create(Clock clock) {
        Map<String, Object> g = new HashMap<>();
        g.put("range", (PyCallable) (a, k) -> range(a));
        g.put("dict", (PyCallable) (a, k) -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            if (!a.isEmpty()) {
                Object src = a.getFirst();
                if (src instanceof Map<?, ?> sm) m.putAll(sm);
                else for (Object pair : Py.iterate(src)) {
                    List<Object> p = Py.iterate(pair);
                    if (p.size() != 2) throw new IllegalArgumentException("dict() needs pairs");
                    m.put(p.get(0), p.get(1));
                }
            }
            m.putAll(k);
            return m;
        });
        g.put("namespace", (PyCallable) (a, k) -> {
            Namespace ns = new Namespace();
            for (Object src : a) {
                if (!(src instanceof Map<?, ?> sm)) throw new IllegalArgumentException("namespace() takes mappings and keyword arguments");
                sm.forEach((x, y) -> ns.attrs.put(Py.str(x), y));
            }
            ns.attrs.putAll(k);
            return ns;
        });
        g.put("raise_exception", (PyCallable) (a, k) -> {
            throw new Raise(a.isEmpty() ? "" : Py.str(a.getFirst()));
        });
        g.put("strftime_now", (PyCallable) (a, k) -> {
            String fmt = new Args("strftime_now", a, k).string(0, "format", null);
            if (fmt == null) throw new IllegalArgumentException("strftime_now needs a format string");
            return Strftime.format(fmt, ZonedDateTime.now(clock));
        });
        return g;
    }

    private static List<Object> range(List<Object> a) {
        long start = 0, stop, step = 1;
        if (a.isEmpty() || a.size() > 3) throw new IllegalArgumentException("range expects 1 to 3 arguments");
        if (a.size() == 1) stop = Py.toLong(a.getFirst());
        else {
            start = Py.toLong(a.get(0));
            stop = Py.toLong(a.get(1));
            if (a.size() == 3) step = Py.toLong(a.get(2));
        }
        if (step == 0) throw new IllegalArgumentException("range() arg 3 must not be zero");
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= MAX_RANGE) throw new IllegalArgumentException("range too big (more than " + MAX_RANGE + " items)");
            out.add(i);
        }
        return out;
    }
}
