package dev.gearbox.device;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.backend.cuda.CudaBackend;

import java.util.Locale;

/**
 * The one place that names devices: turns "cpu" or "cuda" (from the CLI or a ladder file) into a
 * {@link Backend}. It sits above the backends it names (the Backend seam itself knows none of
 * them), and model code never forks on the device; it is handed one of these.
 */
public final class Backends {
    public static final String CPU = "cpu";
    public static final String CUDA = "cuda";

    private Backends() {}

    /**
     * A new backend. "cuda" throws {@link dev.gearbox.backend.cuda.NoCudaDeviceException} when no
     * device is usable, before anything is allocated.
     */
    public static Backend create(String name, int device) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case CPU -> new CpuBackend();
            case CUDA -> new CudaBackend(device);
            default -> throw new IllegalArgumentException("unknown backend '" + name + "' (known: cpu, cuda)");
        };
    }
}
