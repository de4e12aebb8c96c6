// `ftstudio-cli bench --techniques`: one timed training configuration per technique
// (full fine-tuning, LoRA, QLoRA, ...) on the same model shape, batch and length:
// tokens/s, the FLOPs each really does (a frozen base still computes activation
// gradients, but no weight gradients), MFU against the matmul ceiling measured in
// the same run, trainable parameters, frozen-weight bytes and the peak RSS of the
// configuration alone (the high-water mark is reset before each).
#pragma once

#include "base/bench.h"

#include <string>
#include <vector>

namespace ft::base {

struct TechniqueBench {
    std::string technique;
    int64_t trainableParameters = 0;
    int64_t frozenWeightBytes = 0;   // parameters that do not train, and buffers (NF4 codes)
    double flopsPerToken = 0;        // forward 2N + activation gradients 2N + weight gradients 2N_trainable + attention
    double stepSeconds = 0;
    double tokensPerSecond = 0;
    double gflops = 0;
    double mfu = 0;                  // gflops / matmul ceiling
    int64_t peakRssBytes = 0;        // this configuration's high-water mark (Linux: reset before it)
    bool peakIsOwn = true;           // false when the high-water mark could not be reset
};

// techniques: names of peft::applyTechnique (LoRA family with r 16 on all linear
// layers). ft::Error for an unknown name.
std::vector<TechniqueBench> benchTechniques(const BenchOptions& options, const std::vector<std::string>& techniques,
                                            double matmulGflops);

} // namespace ft::base
