// Library identity, devices and error strings.
#include <string.h>

#include "common.cuh"

extern "C" int gbx_api_version(void) { return GBX_API_VERSION; }

extern "C" const char* gbx_error_string(int code) {
    const char* s = cudaGetErrorString((cudaError_t) code);
    return s ? s : "unknown CUDA error";
}

extern "C" int gbx_device_count(int* h_count) {
    GBX_CHECK_ARG(h_count != nullptr);
    *h_count = 0;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void) cudaGetLastError();  // clear the sticky-free error so later calls start clean
        return (int) e;
    }
    *h_count = n;
    return 0;
}

extern "C" int gbx_versions(int* h_runtime, int* h_driver) {
    GBX_CHECK_ARG(h_runtime != nullptr && h_driver != nullptr);
    *h_runtime = 0;
    *h_driver = 0;
    cudaError_t e = cudaRuntimeGetVersion(h_runtime);
    if (e != cudaSuccess) return (int) e;
    e = cudaDriverGetVersion(h_driver);
    return (int) e;
}

extern "C" int gbx_device_info(int device, size_t* h_free, size_t* h_total, char* h_name, int name_cap,
                               int* h_cc_major, int* h_cc_minor, int* h_sm_count, int* h_mem_clock_khz,
                               int* h_bus_width_bits) {
    if (h_name != nullptr && name_cap > 0) h_name[0] = '\0';
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) return (int) e;
    cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, device);
    if (e != cudaSuccess) return (int) e;
    if (h_name != nullptr && name_cap > 0) {
        strncpy(h_name, p.name, (size_t) name_cap - 1);
        h_name[name_cap - 1] = '\0';
    }
    if (h_cc_major) *h_cc_major = p.major;
    if (h_cc_minor) *h_cc_minor = p.minor;
    if (h_sm_count) *h_sm_count = p.multiProcessorCount;
    if (h_bus_width_bits) *h_bus_width_bits = p.memoryBusWidth;
    if (h_mem_clock_khz) {
        int khz = 0;
        e = cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, device);
        if (e != cudaSuccess) return (int) e;
        *h_mem_clock_khz = khz;
    }
    if (h_free || h_total) {
        size_t f = 0, t = 0;
        e = cudaMemGetInfo(&f, &t);
        if (e != cudaSuccess) return (int) e;
        if (h_free) *h_free = f;
        if (h_total) *h_total = t;
    }
    return 0;
}
