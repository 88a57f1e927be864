package dev.gearbox.template;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/** A Python tuple: an immutable list that prints as {@code (a, b)}. */
final class PyTuple extends AbstractList<Object> {
    private final List<Object> items;

    PyTuple(List<Object> items) { this.items = new ArrayList<>(items); }

    @Override
    public Object get(int index) { return items.get(index); }

    @Override
    public int size() { return items.size(); }
}
