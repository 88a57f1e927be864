package dev.gearbox.backend;

/** Keys and values of every layer for one sequence, owned by the backend that made it. */
public interface KVCache extends AutoCloseable {
    int layers();

    /** Positions the cache can hold. */
    int capacity();

    int kvDim();

    /** Bytes of backend memory it holds. */
    long bytes();

    @Override
    void close();
}
