// The random-number state a resumed run needs to continue exactly: libtorch's default
// CPU generator (dropout, randperm, sampling on the CPU), each CUDA device's default
// generator when CUDA is present, and optionally the std::mt19937_64 that orders the
// data. Captured as plain bytes, stored as a safetensors file of U8 tensors.
// Not a seeding policy: the run decides the seeds; this only saves and restores.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ft::train {

struct RngState {
    std::vector<uint8_t> torchCpu;                 // at::Generator::get_state() bytes
    std::vector<std::vector<uint8_t>> torchCuda;   // one per CUDA device; empty without CUDA
    std::string dataOrder;                         // mt19937_64 as written by operator<<; "" if none

    bool empty() const { return torchCpu.empty() && torchCuda.empty() && dataOrder.empty(); }
};

// Reads the generators' states under their locks. `dataOrder` may be null.
RngState captureRngState(const std::mt19937_64* dataOrder = nullptr);

// Puts the states back. CUDA states are restored for the devices present (a state for
// a device this machine lacks is skipped: resuming a GPU run on fewer devices or on
// the CPU is allowed, the CPU stream still continues exactly). Throws ft::Error when a
// state is malformed, or when `dataOrder` is given but the state holds none.
void restoreRngState(const RngState& state, std::mt19937_64* dataOrder = nullptr);

// Tensors "torch_cpu", "torch_cuda_<i>" and "data_order", each U8 (N,); written atomically.
void writeRngState(const std::string& path, const RngState& state);
// Errors name the file and the tensor.
RngState readRngState(const std::string& path);

} // namespace ft::train
