// Reward-model training as an Objective: Bradley-Terry loss -log sigma(s_chosen -
// s_rejected - margin) on preference pairs (margin: the row's optional "margin"
// field, as Llama 2's reward model, times the objective's margin_scale), where s
// is the score head on the last token (reward_model.h). The head trains with the
// technique's parameters (and is checkpointed with them); it starts at zero.
// Metrics: accuracy (s_chosen > s_rejected) and the mean margin, per step and on
// the held-out pairs. The head is written next to the adapter at the end.
#pragma once

#include "align/align_context.h"
#include "align/index_batcher.h"
#include "align/preference_data.h"
#include "train/objective.h"

namespace ft::align {

class RewardObjective : public train::Objective {
public:
    explicit RewardObjective(AlignContext context);
    std::string name() const override { return "reward"; }
    int64_t batchesInEpoch(int64_t) const override { return m_batcher.batchesPerEpoch(); }
    std::unique_ptr<train::ObjectiveBatch> nextBatch() override;
    train::BatchLoss loss(train::ObjectiveBatch& batch) override;
    bool hasEvalData() const override { return !m_eval.empty(); }
    train::EvalResult evaluate(int64_t maxBatches) override;
    nlohmann::json dataPosition() const override { return m_batcher.position(); }
    void restoreDataPosition(const nlohmann::json& position) override { m_batcher.restore(position); }
    nlohmann::json dataSummary() const override;
    std::vector<std::pair<std::string, at::Tensor>> extraTrainable() override { return {{"score.weight", m_head}}; }
    void writeOutputs(const std::string& outputFolder) override;

private:
    struct Scored {
        at::Tensor losses, chosen, rejected;  // (P,)
    };
    Scored score(const std::vector<PairExample>& pairs, const std::vector<int64_t>& indices);

    AlignContext m_x;
    std::vector<PairExample> m_train, m_eval;
    DataCounts m_trainCounts, m_evalCounts;
    IndexBatcher m_batcher;
    int64_t m_padId = 0;
    at::Tensor m_head;  // (1, C) fp32, trainable
};

} // namespace ft::align
