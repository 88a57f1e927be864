package dev.gearbox.template;

/**
 * jinja2's default {@code Undefined}: a missing variable, attribute or item. It prints as the empty
 * string, is false, iterates as empty and has length 0; using it any further (its attributes, items,
 * arithmetic, calling it) is an error carrying {@link #hint}, as in jinja2.
 */
public record Undefined(String hint) {
    /** The error message jinja2 gives when this value is used. */
    public String hint() { return hint; }

    static Undefined variable(String name) { return new Undefined("'" + name + "' is undefined"); }

    @Override
    public boolean equals(Object o) { return o instanceof Undefined; }

    @Override
    public int hashCode() { return 0; }

    @Override
    public String toString() { return ""; }
}
