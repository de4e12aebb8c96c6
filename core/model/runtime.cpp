#include "model/runtime.h"

#include "util/error.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#define FT_HAVE_CUDA_ALLOCATOR 1
#endif

#include <algorithm>
#include <fstream>
#include <sched.h>
#include <thread>

namespace ft {

c10::Device resolveDevice(const std::string& request)
{
    if (request.empty() || request == "auto")
        return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    if (request == "cpu")
        return c10::Device(c10::kCPU);
    if (request.rfind("cuda", 0) == 0) {
        if (!torch::cuda::is_available())
            fail("device '" + request + "' requested, but this libtorch build has no CUDA or no GPU is visible; use --device cpu");
        try {
            return c10::Device(request);
        } catch (const std::exception&) {
            fail("invalid device '" + request + "': expected auto, cpu, cuda or cuda:N");
        }
    }
    fail("invalid device '" + request + "': expected auto, cpu, cuda or cuda:N");
}

int configureThreads(int n)
{
    if (n <= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof(set), &set) == 0)
            n = CPU_COUNT(&set);
        if (n <= 0)
            n = static_cast<int>(std::thread::hardware_concurrency());
        if (n <= 0)
            n = 1;
    }
    at::set_num_threads(n);
    return at::get_num_threads();
}

c10::ScalarType parseDType(const std::string& name)
{
    if (name == "fp32" || name == "float32" || name == "float")
        return c10::kFloat;
    if (name == "bf16" || name == "bfloat16")
        return c10::kBFloat16;
    if (name == "fp16" || name == "float16" || name == "half")
        return c10::kHalf;
    fail("unknown dtype '" + name + "': expected fp32, bf16 or fp16");
}

std::string dtypeLabel(c10::ScalarType t)
{
    switch (t) {
    case c10::kFloat: return "fp32";
    case c10::kBFloat16: return "bf16";
    case c10::kHalf: return "fp16";
    default: return c10::toString(t);
    }
}

ProcessMemory processMemory()
{
    ProcessMemory m;
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        int64_t kb = 0;
        if (key == "VmRSS:" && in >> kb)
            m.rssBytes = kb * 1024;
        else if (key == "VmHWM:" && in >> kb)
            m.peakRssBytes = kb * 1024;
        in.ignore(1 << 12, '\n');
    }
    return m;
}

bool resetPeakRss()
{
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return bool(out);
}

} // namespace ft

namespace ft {

std::optional<CudaMemory> cudaMemory()
{
#ifdef FT_HAVE_CUDA_ALLOCATOR
    if (!torch::cuda::is_available())
        return std::nullopt;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::cuda::current_device());
    constexpr size_t kAggregate = 0;  // StatType::AGGREGATE
    CudaMemory m;
    m.allocatedBytes = stats.allocated_bytes[kAggregate].current;
    m.reservedBytes = stats.reserved_bytes[kAggregate].current;
    m.peakAllocatedBytes = stats.allocated_bytes[kAggregate].peak;
    return m;
#else
    return std::nullopt;
#endif
}

std::optional<DeviceMemory> cudaDeviceMemory(int device)
{
#ifdef FT_HAVE_CUDA_ALLOCATOR
    if (!torch::cuda::is_available() || device < 0 || device >= int(torch::cuda::device_count()))
        return std::nullopt;
    int previous = 0;
    if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(device) != cudaSuccess)
        return std::nullopt;
    size_t freeBytes = 0, totalBytes = 0;
    const bool ok = cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess;
    cudaSetDevice(previous);
    if (!ok)
        return std::nullopt;
    return DeviceMemory{int64_t(freeBytes), int64_t(totalBytes)};
#else
    (void)device;
    return std::nullopt;
#endif
}

namespace {

// The first whitespace-separated number of a small file (cgroup files), or -1.
int64_t readNumber(const char* path)
{
    std::ifstream in(path);
    int64_t v = -1;
    return in >> v ? v : -1;
}

} // namespace

int64_t availableHostMemory()
{
    int64_t available = 0;
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    int64_t kib = 0;
    while (meminfo >> key >> kib) {
        if (key == "MemAvailable:") {
            available = kib * 1024;
            break;
        }
        meminfo.ignore(256, '\n');
    }
    // A container's limit can be tighter than the machine's free memory.
    const int64_t limit = readNumber("/sys/fs/cgroup/memory.max"), used = readNumber("/sys/fs/cgroup/memory.current");
    if (limit > 0 && used >= 0 && limit > used)
        available = available > 0 ? std::min(available, limit - used) : limit - used;
    return available;
}

} // namespace ft
