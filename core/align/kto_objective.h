// KTO (Ethayarajh et al. 2024) as an Objective: unpaired completions, each marked
// desirable or not. A micro-batch holds completions; the KL term z is estimated from
// mismatched pairs (prompt i with the completion of example i+1), policy minus
// reference, clamped at 0 and not differentiated, as in TRL's KTOTrainer. Reference
// log-probs come from one pass with the adapter disabled (reference_logps.h).
// Metrics: rewards of desirable and undesirable completions, their margin, kl.
#pragma once

#include "align/align_context.h"
#include "align/index_batcher.h"
#include "align/preference_data.h"
#include "align/reference_logps.h"
#include "train/objective.h"

namespace ft::align {

class KtoObjective : public train::Objective {
public:
    explicit KtoObjective(AlignContext context);
    std::string name() const override { return "kto"; }
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
        at::Tensor losses, rewards, desirable;  // (N,)
        double kl = 0;
    };
    // `training`: the KL estimate is averaged over the ranks of a data-parallel run (as
    // TRL gathers it), so that it is the estimate of the global batch.
    Scored score(bool training, const std::vector<UnpairedExample>& data, const ReferenceValues& ref,
                 const std::vector<int64_t>& indices);

    AlignContext m_x;
    std::vector<UnpairedExample> m_train, m_eval;
    DataCounts m_trainCounts, m_evalCounts;
    ReferenceValues m_trainRef, m_evalRef;  // index 2i completion, 2i+1 mismatched
    IndexBatcher m_batcher;
    int64_t m_padId = 0;
};

} // namespace ft::align
