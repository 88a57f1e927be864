package dev.gearbox.backend.cuda;

/** A CUDA, cuBLAS or Gearbox kernel call returned an error; the message names the call and the code. */
public final class CudaException extends RuntimeException {
    private final int code;

    public CudaException(String call, int code, String description) {
        super(call + " failed: error " + code + " (" + description + ")");
        this.code = code;
    }

    /** The numeric status the call returned (a cudaError_t, cublasStatus_t or gbx status). */
    public int code() { return code; }
}
