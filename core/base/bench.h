// `ftstudio-cli bench`: training-step and generation throughput of a model
// configuration on this machine, next to a matmul ceiling measured in the same
// run, so the model FLOPs utilization (MFU) is a ratio of two numbers taken
// under the same conditions. Prints nothing; the CLI formats the report.
#pragma once

#include "model/model_config.h"

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace ft::base {

struct BenchOptions {
    model::ModelConfig config;
    int64_t batchSize = 8;
    int64_t seqLen = 128;
    int64_t trainSteps = 5;       // timed steps, after one untimed warm-up step
    int64_t promptTokens = 32;
    int64_t generateTokens = 64;
    int64_t matmulSize = 1024;
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
    uint64_t seed = 0;
    // The headline full fine-tuning step (AdamW on every weight: 16 bytes per parameter
    // in fp32). Off when full fine-tuning is not asked for, so a billion-parameter shape
    // benchmarks its LoRA step without the memory of a full one.
    bool fullTrainingStep = true;
};

struct BenchReport {
    double matmulGflops = 0;           // the ceiling: n x n x n matmul, same dtype and device
    int64_t parameters = 0;
    double trainFlopsPerToken = 0;     // 6 N + 12 L T (H D): forward + backward
    double trainStepSeconds = 0;       // 0 when the full training step was skipped
    double trainTokensPerSecond = 0;
    double trainGflops = 0;
    double mfu = 0;                    // trainGflops / matmulGflops
    double prefillTokensPerSecond = 0;
    double decodeTokensPerSecond = 0;  // batch 1, greedy, KV cache
    int64_t peakRssBytes = 0;
};

double measureMatmulGflops(int64_t n, c10::Device device, c10::ScalarType dtype, double minSeconds);

// Training FLOPs per token: 6 x matmul parameters + attention scores and values.
double trainingFlopsPerToken(const model::ModelConfig& c, int64_t seqLen);

BenchReport runBench(const BenchOptions& options);

} // namespace ft::base
