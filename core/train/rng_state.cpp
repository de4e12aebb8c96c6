#include "train/rng_state.h"

#include "io/safetensors.h"
#include "util/error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <cstring>
#include <mutex>
#include <sstream>

namespace ft::train {

namespace {

std::vector<uint8_t> generatorState(at::Generator gen)
{
    at::Tensor state;
    {
        std::lock_guard<std::mutex> lock(gen.mutex());
        state = gen.get_state();
    }
    state = state.to(at::kCPU).contiguous();
    const auto* bytes = state.data_ptr<uint8_t>();
    return std::vector<uint8_t>(bytes, bytes + state.numel());
}

void setGeneratorState(at::Generator gen, const std::vector<uint8_t>& bytes, const std::string& what)
{
    at::Tensor state = at::empty({int64_t(bytes.size())}, at::TensorOptions().dtype(at::kByte));
    if (!bytes.empty())
        std::memcpy(state.data_ptr<uint8_t>(), bytes.data(), bytes.size());
    try {
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state);
    } catch (const c10::Error& e) {
        fail("cannot restore the " + what + " random-number state (" + std::to_string(bytes.size()) +
             " bytes): " + e.what_without_backtrace());
    }
}

size_t cudaDevices() { return torch::cuda::is_available() ? torch::cuda::device_count() : 0; }

at::Generator cudaGenerator(size_t index)
{
    return at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, c10::DeviceIndex(index)));
}

} // namespace

RngState captureRngState(const std::mt19937_64* dataOrder)
{
    RngState s;
    s.torchCpu = generatorState(at::detail::getDefaultCPUGenerator());
    for (size_t i = 0; i < cudaDevices(); ++i)
        s.torchCuda.push_back(generatorState(cudaGenerator(i)));
    if (dataOrder) {
        std::ostringstream text;
        text << *dataOrder;
        s.dataOrder = text.str();
    }
    return s;
}

void restoreRngState(const RngState& state, std::mt19937_64* dataOrder)
{
    if (!state.torchCpu.empty())
        setGeneratorState(at::detail::getDefaultCPUGenerator(), state.torchCpu, "CPU");
    const size_t devices = std::min(cudaDevices(), state.torchCuda.size());
    for (size_t i = 0; i < devices; ++i)
        setGeneratorState(cudaGenerator(i), state.torchCuda[i], "CUDA device " + std::to_string(i));
    if (dataOrder) {
        if (state.dataOrder.empty())
            fail("the saved random-number state has no data-order generator; it was saved by a run that did not "
                 "shuffle, so this run cannot continue its data order");
        std::istringstream text(state.dataOrder);
        std::mt19937_64 restored;
        text >> restored;
        if (text.fail())
            fail("the saved data-order random-number state is malformed");
        *dataOrder = restored;
    }
}

void writeRngState(const std::string& path, const RngState& state)
{
    std::vector<io::TensorToWrite> tensors;
    auto add = [&](const std::string& name, const void* data, size_t n) {
        tensors.push_back({name, io::DType::U8, {int64_t(n)}, data, n});
    };
    add("torch_cpu", state.torchCpu.data(), state.torchCpu.size());
    for (size_t i = 0; i < state.torchCuda.size(); ++i)
        add("torch_cuda_" + std::to_string(i), state.torchCuda[i].data(), state.torchCuda[i].size());
    if (!state.dataOrder.empty())
        add("data_order", state.dataOrder.data(), state.dataOrder.size());
    io::writeSafetensors(path, tensors, {{"format", "ftstudio-rng-state"}});
}

RngState readRngState(const std::string& path)
{
    const io::SafetensorsFile file = io::SafetensorsFile::open(path);
    auto bytesOf = [&](const io::TensorView& v) {
        if (v.dtype != io::DType::U8 || v.shape.size() != 1)
            fail("tensor '" + v.name + "' in " + path + " must be U8 with one dimension (found " +
                 io::dtypeName(v.dtype) + " with " + std::to_string(v.shape.size()) + " dimensions)");
        return std::vector<uint8_t>(v.data, v.data + v.nbytes);
    };
    RngState s;
    const io::TensorView* cpu = file.find("torch_cpu");
    if (!cpu)
        fail(path + " has no tensor 'torch_cpu' (the CPU random-number state)");
    s.torchCpu = bytesOf(*cpu);
    for (size_t i = 0;; ++i) {
        const io::TensorView* cuda = file.find("torch_cuda_" + std::to_string(i));
        if (!cuda)
            break;
        s.torchCuda.push_back(bytesOf(*cuda));
    }
    if (const io::TensorView* order = file.find("data_order")) {
        const auto bytes = bytesOf(*order);
        s.dataOrder.assign(bytes.begin(), bytes.end());
    }
    return s;
}

} // namespace ft::train
