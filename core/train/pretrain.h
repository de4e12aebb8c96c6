// Causal-LM pretraining of a whole model on a token stream: what makes the
// embedded base model, and the loop the tests use to show training lowers
// held-out loss. Fine-tuning runs (techniques, objectives, checkpoints, events)
// belong to the training engine, not here.
#pragma once

#include "model/llama.h"

#include <functional>
#include <vector>

namespace ft::train {

struct PretrainOptions {
    int64_t steps = 100;
    int64_t batchSize = 16;
    int64_t seqLen = 128;
    double learningRate = 3e-3;
    double minLrRatio = 0.1;
    int64_t warmupSteps = 20;
    double weightDecay = 0.1;
    double clipNorm = 1.0;
    uint64_t seed = 1234;
    int64_t evalBatchSize = 16;
    int64_t evalMaxBatches = 8;
};

struct PretrainProgress {
    int64_t step = 0;  // completed steps
    int64_t steps = 0;
    double loss = 0;
    double learningRate = 0;
    double gradNorm = 0;
    double tokensPerSecond = 0;
    double elapsedSeconds = 0;
    double etaSeconds = 0;
};

struct PretrainResult {
    double initialHeldoutLoss = 0;
    double finalHeldoutLoss = 0;
    double finalTrainLoss = 0;
    int64_t steps = 0;
    int64_t tokensSeen = 0;
    double seconds = 0;
};

using PretrainCallback = std::function<void(const PretrainProgress&)>;

// Mean next-token loss over the stream's evaluation windows (no gradients).
double evaluateLoss(model::CausalLM& model, const std::vector<int64_t>& stream, int64_t seqLen, int64_t batchSize,
                    int64_t maxBatches);

PretrainResult pretrain(model::CausalLM& model, const std::vector<int64_t>& trainStream,
                        const std::vector<int64_t>& heldoutStream, const PretrainOptions& options,
                        const PretrainCallback& onProgress = {});

} // namespace ft::train
