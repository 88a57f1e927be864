package dev.gearbox.template;

import java.util.List;

/** The {@code loop} variable of a for loop: index, index0, revindex, revindex0, first, last, length, previtem, nextitem, cycle. */
final class LoopContext {
    private final List<Object> items;
    int index0;

    LoopContext(List<Object> items) { this.items = items; }

    /** The attribute {@code name}, or {@code found[0] = false}. */
    Object attr(String name, boolean[] found) {
        found[0] = true;
        int n = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (n - index0);
            case "revindex0" -> (long) (n - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == n - 1;
            case "length" -> (long) n;
            case "depth" -> 1L;
            case "depth0" -> 0L;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 + 1 < n ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> (PyCallable) (args, kw) -> {
                if (args.isEmpty()) throw new IllegalArgumentException("no items for cycling given");
                return args.get(index0 % args.size());
            };
            default -> {
                found[0] = false;
                yield null;
            }
        };
    }

    @Override
    public String toString() { return "<LoopContext " + (index0 + 1) + "/" + items.size() + ">"; }
}
