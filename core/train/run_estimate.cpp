#include "train/run_estimate.h"

#include "model/model_config.h"
#include "model/runtime.h"
#include "peft/technique.h"
#include "util/error.h"

#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include <torch/cuda.h>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace ft::train {

namespace {

// Bytes per element of the frozen weights and activations under training.precision
// (the engine's resolvePrecision: bf16 and fp16 store and compute in half width).
int64_t precisionBytes(const std::string& precision)
{
    return precision == "bf16" || precision == "fp16" ? 2 : 4;
}

} // namespace

RunEstimate estimateRun(const RunConfig& c)
{
    const std::filesystem::path configPath = std::filesystem::path(c.model) / "config.json";
    if (!std::filesystem::is_regular_file(configPath))
        fail("model: '" + c.model + "' is not a model folder (it has no config.json)");
    const model::ModelConfig mc = model::readModelConfig(configPath.string());
    const peft::Technique& technique = peft::technique(c.technique.technique);
    const peft::TechniqueEstimate t = technique.estimate(mc, c.technique);

    RunEstimate e;
    const int64_t elementBytes = precisionBytes(c.training.precision);
    e.dtype = elementBytes == 2 ? c.training.precision : "fp32";
    e.baseParameters = mc.parameterCount();
    e.trainableParameters = t.added + t.trainedInPlace;
    e.totalParameters = e.baseParameters + t.added;

    MemoryEstimateInput in;
    in.config = mc;
    in.trainableParameters = e.trainableParameters;
    const int64_t frozen = e.baseParameters - t.trainedInPlace - t.quantizedParameters;
    in.frozenWeightBytes = frozen * elementBytes + int64_t(double(t.quantizedParameters) * t.quantizedBytesPerParameter);
    in.batchSize = c.training.batchSize;
    in.seqLen = c.training.maxSeqLen;
    in.activationBytes = elementBytes;
    in.gradientCheckpointing = c.training.gradientCheckpointing;
    e.memory = estimateTrainingMemory(in);

    e.processes = std::max<int64_t>(1, c.distributed.processes);
    if (c.distributed.shardOptimizer && e.processes > 1) {
        e.memory.optimizer = (e.memory.optimizer + e.processes - 1) / e.processes;
        e.memory.total = e.memory.weights + e.memory.gradients + e.memory.optimizer + e.memory.activations;
    }

    const c10::Device device = resolveDevice(c.training.device);
    e.device = device.str();
    if (device.is_cuda()) {
        e.parallelDevices = int64_t(torch::cuda::device_count());
        e.parallelUnit = "CUDA devices";
    } else {
        e.parallelDevices = std::max<int64_t>(1, int64_t(std::thread::hardware_concurrency()));
        e.parallelUnit = "CPU cores";
    }
    if (device.is_cuda()) {
        if (const auto m = cudaDeviceMemory(device.has_index() ? device.index() : 0)) {
            e.availableBytes = m->freeBytes;
            e.deviceTotalBytes = m->totalBytes;
        }
    } else {
        e.availableBytes = availableHostMemory();
    }
    const int64_t sharing = device.is_cuda() ? 1 : e.processes;  // ranks on one GPU each, or all in host memory
    e.fits = e.availableBytes <= 0 || e.memory.total * sharing <= e.availableBytes;
    return e;
}

RunConfig estimateConfig(const nlohmann::json& partial, const std::string& sourceName, const std::string& baseDir)
{
    nlohmann::json j = partial.is_object() ? partial : nlohmann::json::object();
    if (!j.contains("output_dir") || j["output_dir"] == "")
        j["output_dir"] = "estimate";
    if (!j.contains("data") || !j["data"].is_object())
        j["data"] = nlohmann::json::object();
    if (!j["data"].contains("train") || j["data"]["train"] == "")
        j["data"]["train"] = "estimate.jsonl";
    return parseRunConfig(j, sourceName, baseDir);
}

nlohmann::json toJson(const RunEstimate& e)
{
    return {{"parameters",
             {{"base", e.baseParameters}, {"total", e.totalParameters}, {"trainable", e.trainableParameters}}},
            {"memory_estimate",
             {{"weights", e.memory.weights},
              {"gradients", e.memory.gradients},
              {"optimizer", e.memory.optimizer},
              {"activations", e.memory.activations},
              {"total", e.memory.total},
              {"summary", e.memory.summary()}}},
            {"device", e.device},
            {"dtype", e.dtype},
            {"available_bytes", e.availableBytes},
            {"device_total_bytes", e.deviceTotalBytes},
            {"fits", e.fits},
            {"parallel", {{"processes", e.processes}, {"devices", e.parallelDevices}, {"unit", e.parallelUnit}}}};
}

} // namespace ft::train
