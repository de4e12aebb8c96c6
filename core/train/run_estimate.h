// What a run will train and how much memory it needs, before anything is loaded:
// the model's config.json, the technique's own parameter count from the shapes
// (peft/technique.h) and the memory formula (memory_estimate.h), against the memory
// the chosen device has now (host memory on the CPU; free memory of the GPU on
// CUDA). `ftstudio-cli train --estimate` prints it and the GUI's Train page shows it
// while the settings are edited; the engine's `started` event then reports the
// figures of the loaded model.
#pragma once

#include "train/memory_estimate.h"
#include "train/run_config.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace ft::train {

struct RunEstimate {
    int64_t baseParameters = 0;
    int64_t totalParameters = 0;      // base plus what the technique adds
    int64_t trainableParameters = 0;
    MemoryEstimate memory;
    std::string device;               // "cpu", "cuda:0"
    std::string dtype;                // of the frozen weights and activations: fp32, bf16, fp16
    int64_t availableBytes = 0;       // host memory available (CPU) or the GPU's free memory; 0: unknown
    int64_t deviceTotalBytes = 0;     // the GPU's memory (CUDA only)
    bool fits = true;                 // memory.total within availableBytes (true when unknown)
    // Several processes (distributed.processes): the memory above is per process (the
    // optimizer part divided among them with shard_optimizer); on the CPU they share the
    // host's memory, so `fits` checks processes x total there.
    int64_t processes = 1;
    int64_t parallelDevices = 1;      // what processes can run on here: CUDA devices, or CPU cores
    std::string parallelUnit;         // "CUDA devices" | "CPU cores"
};

// Reads `config.model`'s config.json only. ft::Error when it cannot be read or the
// technique's targets match nothing.
RunEstimate estimateRun(const RunConfig& config);

// A run config for the estimate from a partial one (the GUI's form before data or an
// output folder is chosen): data.train and output_dir, which the estimate does not
// read, are filled in when missing so that the rest is validated as for a run.
RunConfig estimateConfig(const nlohmann::json& partial, const std::string& sourceName, const std::string& baseDir);

nlohmann::json toJson(const RunEstimate& estimate);

} // namespace ft::train
