package dev.gearbox.backend.cuda;

import dev.gearbox.backend.Backend;

/** Activations on a CUDA lane: {@code size} F32 elements at device address {@code ptr}. */
record CudaBuffer(long ptr, long size) implements Backend.Buffer {

    /** The device address of element {@code floats} of {@code b}. */
    static long at(Backend.Buffer b, long floats) {
        return ((CudaBuffer) b).ptr + floats * Float.BYTES;
    }
}
