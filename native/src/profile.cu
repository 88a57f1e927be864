// Profiling hooks: CUDA events to time each kernel on the GPU's own clock, and NVTX ranges so that
// Nsight Systems shows Gearbox's spans (gatekeeper, steps, ops) over its kernel rows. NVTX 3 is
// header-only: with no tool attached a push or pop is a check of one pointer.
#include <nvtx3/nvToolsExt.h>

#include "common.cuh"

extern "C" int gbx_event_create(void** h_event) {
    GBX_CHECK_ARG(h_event != nullptr);
    *h_event = nullptr;
    cudaEvent_t e = nullptr;
    const cudaError_t err = cudaEventCreate(&e);  // default flags: timing on
    if (err != cudaSuccess) return (int) err;
    *h_event = (void*) e;
    return 0;
}

extern "C" int gbx_event_destroy(void* event) {
    GBX_CHECK_ARG(event != nullptr);
    return (int) cudaEventDestroy((cudaEvent_t) event);
}

extern "C" int gbx_event_record(void* event, void* stream) {
    GBX_CHECK_ARG(event != nullptr);
    return (int) cudaEventRecord((cudaEvent_t) event, GBX_STREAM(stream));
}

extern "C" int gbx_event_elapsed_ms(void* start, void* end, float* h_ms) {
    GBX_CHECK_ARG(start != nullptr && end != nullptr && h_ms != nullptr);
    *h_ms = 0.0f;
    const cudaError_t err = cudaEventSynchronize((cudaEvent_t) end);
    if (err != cudaSuccess) return (int) err;
    return (int) cudaEventElapsedTime(h_ms, (cudaEvent_t) start, (cudaEvent_t) end);
}

extern "C" void gbx_nvtx_push(const char* name) {
    if (name != nullptr) nvtxRangePushA(name);
}

extern "C" void gbx_nvtx_pop(void) { nvtxRangePop(); }
