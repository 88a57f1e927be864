package dev.gearbox.template;

import java.util.HashMap;
import java.util.Map;

/**
 * Variables as jinja2 scopes them: a for-loop iteration and a macro call each get a child scope (so a
 * {@code set} inside a loop body is gone at the next iteration and after the loop); {@code if} blocks do not.
 */
final class Scope {
    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) { this.parent = parent; }

    /** True (and the value in {@code out[0]}) when some enclosing scope defines {@code name}. */
    boolean lookup(String name, Object[] out) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.vars.containsKey(name)) {
                out[0] = s.vars.get(name);
                return true;
            }
        }
        return false;
    }

    void set(String name, Object value) { vars.put(name, value); }

    Scope child() { return new Scope(this); }

    static Scope of(Map<String, ?> values) {
        Scope s = new Scope(null);
        values.forEach((k, v) -> s.vars.put(k, Values.fromJava(v)));
        return s;
    }
}
