// The DPO family as an Objective: DPO (sigmoid loss; with label_smoothing > 0 the
// conservative cDPO), IPO (squared loss on length-averaged log-ratios), SimPO
// (reference-free, length-normalized, margin gamma) and ORPO (SFT loss on the chosen
// response plus an odds-ratio term, reference-free). A micro-batch holds pairs;
// chosen and rejected go through the model in one forward pass. The reference
// log-probs (DPO, IPO) are computed once, with the adapter disabled (reference_logps.h).
// Metrics per step and on the held-out pairs: rewards of chosen and rejected,
// their margin and accuracy (chosen reward > rejected), and logp_accuracy (the policy
// gives the chosen response the higher average log-prob).
#pragma once

#include "align/align_context.h"
#include "align/index_batcher.h"
#include "align/preference_data.h"
#include "align/reference_logps.h"
#include "train/objective.h"

namespace ft::align {

class PreferenceObjective : public train::Objective {
public:
    // loss: "dpo", "ipo", "simpo" or "orpo".
    PreferenceObjective(std::string loss, AlignContext context);
    std::string name() const override { return m_loss; }
    int64_t batchesInEpoch(int64_t) const override { return m_batcher.batchesPerEpoch(); }
    std::unique_ptr<train::ObjectiveBatch> nextBatch() override;
    train::BatchLoss loss(train::ObjectiveBatch& batch) override;
    bool hasEvalData() const override { return !m_eval.empty(); }
    train::EvalResult evaluate(int64_t maxBatches) override;
    nlohmann::json dataPosition() const override { return m_batcher.position(); }
    void restoreDataPosition(const nlohmann::json& position) override { m_batcher.restore(position); }
    nlohmann::json dataSummary() const override;

private:
    struct Scored {
        at::Tensor losses;                   // (P,)
        at::Tensor chosenReward, rejectedReward;  // (P,) detached
        at::Tensor chosenAvg, rejectedAvg;   // (P,) detached average log-probs
    };
    Scored score(const std::vector<PairExample>& pairs, const ReferenceValues& ref,
                 const std::vector<int64_t>& indices);
    bool usesReference() const { return m_loss == "dpo" || m_loss == "ipo"; }

    std::string m_loss;
    AlignContext m_x;
    std::vector<PairExample> m_train, m_eval;
    DataCounts m_trainCounts, m_evalCounts;
    ReferenceValues m_trainRef, m_evalRef;  // index 2i chosen, 2i+1 rejected
    IndexBatcher m_batcher;
    int64_t m_padId = 0;
};

// Mean of each metric over pairs: rewards/chosen, rewards/rejected, rewards/margins,
// rewards/accuracies (TRL's strict chosen > rejected), preference_accuracy (ties count
// half), logp_accuracy. Shared with the reward model's reports.
nlohmann::json pairMetrics(const at::Tensor& chosenReward, const at::Tensor& rejectedReward,
                           const at::Tensor& chosenAvg, const at::Tensor& rejectedAvg);

} // namespace ft::align
