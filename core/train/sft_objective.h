// Instruction tuning (SFT) as an Objective: rows rendered by a prompt format,
// prompt tokens masked out of the loss, optional packing; loss summed over
// trainable tokens; evaluation reports loss and perplexity on the held-out rows.
#pragma once

#include "model/llama.h"
#include "train/objective.h"
#include "train/sft_data.h"

namespace ft::train {

struct SftObjectiveSetup {
    SftDataset train;
    SftDataset eval;  // may have no examples
    SftBatcherOptions batcher;
    int64_t evalBatchSize = 8;
    c10::Device device = c10::Device(c10::kCPU);
};

class SftObjective : public Objective {
public:
    SftObjective(model::CausalLM model, SftObjectiveSetup setup);
    std::string name() const override { return "sft"; }
    int64_t batchesInEpoch(int64_t epoch) const override { return m_batcher.batchesInEpoch(epoch); }
    std::unique_ptr<ObjectiveBatch> nextBatch() override;
    BatchLoss loss(ObjectiveBatch& batch) override;
    bool hasEvalData() const override { return !m_setup.eval.examples.empty(); }
    EvalResult evaluate(int64_t maxBatches) override;
    nlohmann::json dataPosition() const override;
    void restoreDataPosition(const nlohmann::json& position) override;
    nlohmann::json dataSummary() const override;

private:
    model::CausalLM m_model;
    SftObjectiveSetup m_setup;
    SftBatcher m_batcher;
};

// Sum of the shifted cross-entropy over labels != kIgnoreIndex, in fp32.
// logits (B, T, V), labels (B, T) -> scalar.
at::Tensor summedLmLoss(const at::Tensor& logits, const at::Tensor& labels);

} // namespace ft::train
