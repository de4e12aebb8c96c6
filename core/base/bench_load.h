// `ftstudio-cli bench load`: what loading a large checkpoint costs. A synthetic
// Llama checkpoint of a real model's shape (TinyLlama-1.1B's by default) is written
// shard by shard like save_pretrained's; measureLoad() then loads it with the
// engine's own loader and reports the time and how far the resident set rose above
// what the process held before, against the weights' size in the chosen dtype.
// measureLoad() is meant to run in a fresh process (the CLI spawns one per dtype),
// so allocator caches left by earlier work cannot hide or inflate the figure.
#pragma once

#include "model/model_config.h"

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

namespace ft::base {

// TinyLlama-1.1B's shape: 22 layers, hidden 2048, MLP 5632, 32 heads, 4 KV heads,
// vocabulary 32000, untied: 1,100,048,384 parameters.
model::ModelConfig syntheticCheckpointConfig(int64_t layers = 22);

struct SyntheticCheckpoint {
    int64_t parameters = 0;
    int64_t bytes = 0;    // of the tensors on disk
    int64_t shards = 0;
    double seconds = 0;   // filling and writing
};

// Weights normal(0, 0.02) (norms 1), stored in `storeDtype`, sharded at
// maxShardBytes (model.safetensors.index.json when more than one shard).
SyntheticCheckpoint writeSyntheticCheckpoint(const model::ModelConfig& config, const std::string& dir,
                                             c10::ScalarType storeDtype, int64_t maxShardBytes, uint64_t seed);

// Asks the kernel to drop every file of `dir` from the page cache
// (posix_fadvise DONTNEED), so the next load reads from the disk; returns the
// number of files it was accepted for.
int dropFromPageCache(const std::string& dir);

struct LoadMeasurement {
    int64_t parameters = 0;
    int64_t tensorBytes = 0;   // the loaded weights' size in the chosen dtype
    int64_t rssBefore = 0;     // what the process held just before loading
    int64_t peakRss = 0;       // its high-water mark during the load
    double seconds = 0;
    bool peakIsOwn = false;    // false when the kernel refused to reset the high-water mark
    double ratio() const { return tensorBytes ? double(peakRss - rssBefore) / double(tensorBytes) : 0.0; }
};

// Loads the model folder `dir` into `dtype` on the CPU and measures it. nf4Projections:
// as a QLoRA run loads its base (the decoder projections quantized to NF4 while loading,
// peft::quantizeWhileLoading); tensorBytes is then what stays (parameters and the NF4
// codes and scales).
LoadMeasurement measureLoad(const std::string& dir, c10::ScalarType dtype, bool nf4Projections = false);

} // namespace ft::base
