package dev.gearbox.template;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The object {@code namespace(...)} makes: the one thing a template may assign attributes on
 * ({@code {% set ns.x = ... %}}), which is how values leave a for loop's scope.
 */
final class Namespace {
    final Map<String, Object> attrs = new LinkedHashMap<>();

    @Override
    public String toString() { return "<Namespace " + Py.repr(attrs) + ">"; }
}
