// What a training objective brings to the engine loop: its data, the loss of one
// micro-batch, its evaluation, and where its data stream stands (for checkpoints).
// The loop itself (optimizer, schedule, accumulation, clipping, events, checkpoints,
// pause/stop) is objective-agnostic and lives in trainer.cpp. SFT is the first
// objective; the alignment objectives implement the same interface.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ft::train {

// One micro-batch, opaque to the loop. `weight` is what the loss is summed over
// (trainable tokens for SFT, pairs for DPO): accumulated micro-batches are
// normalized by their total weight, so accumulation equals one large batch.
struct ObjectiveBatch {
    virtual ~ObjectiveBatch() = default;
    double weight = 1;
    int64_t tokens = 0;  // tokens processed (throughput)
    int64_t epoch = 0;
    bool epochEnded = false;
};

struct BatchLoss {
    at::Tensor sum;        // scalar: the loss summed over the batch's weight units
    nlohmann::json metrics = nlohmann::json::object();  // objective metrics of this batch
};

struct EvalResult {
    double loss = 0;       // mean per weight unit
    nlohmann::json metrics = nlohmann::json::object();
    bool hasPerplexity = true;  // exp(loss) means something (language-model losses only)
};

class Objective {
public:
    virtual ~Objective() = default;
    virtual std::string name() const = 0;
    virtual int64_t batchesInEpoch(int64_t epoch) const = 0;
    virtual std::unique_ptr<ObjectiveBatch> nextBatch() = 0;
    virtual BatchLoss loss(ObjectiveBatch& batch) = 0;
    virtual bool hasEvalData() const = 0;
    // Under no-grad and eval mode; maxBatches 0 = all.
    virtual EvalResult evaluate(int64_t maxBatches) = 0;
    virtual nlohmann::json dataPosition() const = 0;
    virtual void restoreDataPosition(const nlohmann::json& position) = 0;
    // Row counts, truncations ... for the `started` event and the log.
    virtual nlohmann::json dataSummary() const = 0;
    // Tensors the objective itself trains besides the technique's (a reward model's
    // score head), named for checkpoints; they are optimized and saved with the rest.
    virtual std::vector<std::pair<std::string, at::Tensor>> extraTrainable() { return {}; }
    // Writes what the objective adds to the final output (the score head) into the
    // folder the adapter or model was written to.
    virtual void writeOutputs(const std::string& outputFolder) { (void)outputFolder; }
};

} // namespace ft::train
