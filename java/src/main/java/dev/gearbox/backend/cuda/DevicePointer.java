package dev.gearbox.backend.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP {@link Pointer} that wraps a raw address we already hold (device memory from
 * cudaMalloc, or host memory such as a mapped file), so cudart and cuBLAS calls can take the same
 * plain addresses the Panama kernels take. It owns nothing: freeing is explicit.
 */
final class DevicePointer extends Pointer {
    DevicePointer(long address) {
        this.address = address;
    }
}
