// Process-wide runtime settings for the engine: which device tensors live on,
// how many intra-op threads libtorch uses, and how much memory the process holds.
// Not a settings store: callers decide the values and pass them in.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ft {

// "auto" picks CUDA when the linked libtorch has it and a GPU is visible, else CPU.
// Accepts "auto", "cpu", "cuda", "cuda:N"; anything else is an ft::Error.
c10::Device resolveDevice(const std::string& request);

// Sets libtorch's intra-op thread count. n <= 0 means "all cores the process may
// use" (libtorch's own default was 1 on a 2-vCPU machine, halving throughput).
// Returns the count in force afterwards.
int configureThreads(int n);

// "fp32"/"float32", "bf16"/"bfloat16", "fp16"/"float16"; anything else is an ft::Error.
c10::ScalarType parseDType(const std::string& name);
std::string dtypeLabel(c10::ScalarType t);

// Resident set size of this process and its peak, in bytes (from /proc/self/status).
struct ProcessMemory {
    int64_t rssBytes = 0;
    int64_t peakRssBytes = 0;
};
ProcessMemory processMemory();
// Sets the peak back to the current RSS (Linux: "5" written to /proc/self/clear_refs),
// so a later processMemory().peakRssBytes covers only what follows; false where
// the kernel refuses, and the peak then still includes the past.
bool resetPeakRss();

// The CUDA caching allocator's figures for the current device; nullopt when the
// linked libtorch has no CUDA or no GPU is in use.
struct CudaMemory {
    int64_t allocatedBytes = 0;
    int64_t reservedBytes = 0;
    int64_t peakAllocatedBytes = 0;
};
std::optional<CudaMemory> cudaMemory();

// Free and total memory of a CUDA device as the driver reports them; nullopt when
// the linked libtorch has no CUDA or the device is not there.
struct DeviceMemory {
    int64_t freeBytes = 0;
    int64_t totalBytes = 0;
};
std::optional<DeviceMemory> cudaDeviceMemory(int device);

// Host memory this process could still use now: MemAvailable, or the cgroup's
// remaining limit when that is tighter; 0 when neither can be read.
int64_t availableHostMemory();

} // namespace ft
