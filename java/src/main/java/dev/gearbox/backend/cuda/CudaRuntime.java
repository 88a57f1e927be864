package dev.gearbox.backend.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.SizeTPointer;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Finds CUDA devices without ever taking the JVM down. The order matters: JavaCPP's cudart JNI
 * library links against libcuda.so.1, and on a machine without the driver loading it throws
 * UnsatisfiedLinkError once and NoClassDefFoundError on every later touch of the class. So we first
 * look for the driver library ourselves (Panama, which fails with a plain exception), and only
 * then load cudart, still catching both errors.
 */
public final class CudaRuntime {
    /** The driver library every CUDA runtime needs; overridable for tests of the no-driver path. */
    static final String DRIVER_LIBRARY = System.getProperty("gearbox.cuda.driver", "libcuda.so.1");

    private static volatile Object state; // a Loaded or a NoCudaDeviceException, decided once

    private record Loaded(int deviceCount) {}

    private CudaRuntime() {}

    /** True when at least one device is usable; never throws. */
    public static boolean available() {
        return init() instanceof Loaded;
    }

    /** Why no device is usable, or null when one is. */
    public static String unavailableReason() {
        return init() instanceof NoCudaDeviceException e ? e.getMessage() : null;
    }

    /** Number of CUDA devices; throws {@link NoCudaDeviceException} when there are none or no driver. */
    public static int deviceCount() {
        Object s = init();
        if (s instanceof NoCudaDeviceException e) throw new NoCudaDeviceException(e.getMessage().substring("no CUDA device: ".length()), e);
        return ((Loaded) s).deviceCount;
    }

    /** Throws {@link NoCudaDeviceException} unless device {@code ordinal} exists. */
    static void checkOrdinal(int ordinal) {
        int n = deviceCount();
        if (ordinal < 0 || ordinal >= n) {
            throw new NoCudaDeviceException("device " + ordinal + " requested but " + n + " device" + (n == 1 ? " is" : "s are") + " present");
        }
    }

    /** Every device, with its current free memory. */
    public static List<CudaDevice> devices() {
        int n = deviceCount();
        List<CudaDevice> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(device(i));
        return list;
    }

    /** Device {@code ordinal}: name, compute capability and free/total memory now. */
    public static CudaDevice device(int ordinal) {
        checkOrdinal(ordinal);
        use(ordinal);
        int[] major = new int[1], minor = new int[1];
        check("cudaDeviceGetAttribute", cudart.cudaDeviceGetAttribute(major, cudart.cudaDevAttrComputeCapabilityMajor, ordinal));
        check("cudaDeviceGetAttribute", cudart.cudaDeviceGetAttribute(minor, cudart.cudaDevAttrComputeCapabilityMinor, ordinal));
        long[] mem = memInfo();
        return new CudaDevice(ordinal, driverDeviceName(ordinal), mem[0], mem[1], major[0], minor[0]);
    }

    /**
     * The device's name from the driver API (cuDeviceGetName, stable across CUDA versions) rather
     * than cudaDeviceProp, whose layout JavaCPP took from 13.1 headers and the runtime fills as 13.0.
     */
    private static String driverDeviceName(int ordinal) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup driver = SymbolLookup.libraryLookup(DRIVER_LIBRARY, Arena.global());
        try (Arena a = Arena.ofConfined()) {
            MethodHandle init = linker.downcallHandle(driver.find("cuInit").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            MethodHandle get = linker.downcallHandle(driver.find("cuDeviceGet").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            MethodHandle name = linker.downcallHandle(driver.find("cuDeviceGetName").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
            int rc = (int) init.invokeExact(0);
            MemorySegment dev = a.allocate(JAVA_INT);
            if (rc == 0) rc = (int) get.invokeExact(dev, ordinal);
            MemorySegment buf = a.allocate(256);
            if (rc == 0) rc = (int) name.invokeExact(buf, 256, dev.get(JAVA_INT, 0));
            return rc == 0 ? buf.getString(0).trim() : "CUDA device " + ordinal + " (cuDeviceGetName error " + rc + ")";
        } catch (Throwable t) {
            return "CUDA device " + ordinal + " (" + t + ")";
        }
    }

    /** The device each thread last made current through {@link #use}; -1 before the first. */
    private static final ThreadLocal<int[]> CURRENT = ThreadLocal.withInitial(() -> new int[] {-1});

    /**
     * Makes {@code ordinal} the calling thread's current device (CUDA keeps one per thread), cheaply
     * when it already is. Every backend call goes through here, so any thread may drive a backend.
     */
    static void use(int ordinal) {
        int[] cur = CURRENT.get();
        if (cur[0] != ordinal) {
            check("cudaSetDevice", cudart.cudaSetDevice(ordinal));
            cur[0] = ordinal;
        }
    }

    /** {free, total} bytes of the current device. */
    static long[] memInfo() {
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            check("cudaMemGetInfo", cudart.cudaMemGetInfo(free, total));
            return new long[] {free.get(), total.get()};
        }
    }

    static void check(String call, int err) {
        if (err != cudart.cudaSuccess) throw new CudaException(call, err, errorString(err));
    }

    static String errorString(int err) {
        try {
            return cudart.cudaGetErrorString(err).getString();
        } catch (RuntimeException | LinkageError e) {
            return "cudaError " + err;
        }
    }

    private static Object init() {
        Object s = state;
        if (s != null) return s;
        synchronized (CudaRuntime.class) {
            if (state == null) state = probe();
            return state;
        }
    }

    private static Object probe() {
        try {
            // Only asks the dynamic linker; the library stays loaded for the cudart load that follows.
            SymbolLookup.libraryLookup(DRIVER_LIBRARY, Arena.global());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return new NoCudaDeviceException("the NVIDIA driver library " + DRIVER_LIBRARY + " cannot be loaded (no NVIDIA driver on this machine)");
        }
        try {
            Loader.load(cudart.class);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return new NoCudaDeviceException("the CUDA runtime (JavaCPP cudart) cannot be loaded: " + e, e);
        }
        try {
            int[] count = new int[1];
            int err = cudart.cudaGetDeviceCount(count);
            if (err != cudart.cudaSuccess) {
                return new NoCudaDeviceException("cudaGetDeviceCount failed: error " + err + " (" + errorString(err) + ")");
            }
            if (count[0] == 0) return new NoCudaDeviceException("the driver is present but reports 0 devices");
            return new Loaded(count[0]);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return new NoCudaDeviceException("the CUDA runtime cannot be called: " + e, e);
        }
    }
}
