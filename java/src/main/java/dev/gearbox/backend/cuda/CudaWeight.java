package dev.gearbox.backend.cuda;

import dev.gearbox.backend.Backend;
import dev.gearbox.gguf.TensorInfo;

/** A weight on the device: a matrix as stored in the GGUF file (rows x cols of its type) or an F32 vector (1 x n). */
record CudaWeight(TensorInfo info, long ptr, int rows, int cols) implements Backend.Weight {

    /** The GGUF type id the kernels take. */
    int type() { return info.type().id(); }
}
