package dev.gearbox.backend.cuda;

/**
 * No usable CUDA device: no driver, no device, or a runtime that cannot start. The message always
 * begins "no CUDA device: " and says which of these it was, so a user can act on it.
 */
public final class NoCudaDeviceException extends RuntimeException {
    public NoCudaDeviceException(String reason) {
        super("no CUDA device: " + reason);
    }

    public NoCudaDeviceException(String reason, Throwable cause) {
        super("no CUDA device: " + reason, cause);
    }
}
