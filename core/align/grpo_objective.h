// GRPO (Shao et al. 2024, DeepSeekMath) as an Objective, and RLVR: GRPO whose rewards
// come from verifiers (exact match, numeric, regex, JSON schema, format, length,
// composites; verifiers.h) named by each verifiable row. A micro-batch is
// training.batch_size prompts; for each, num_generations completions are sampled
// with the KV cache (rollout.h) from the current policy. Rewards are normalized
// within each prompt's group (advantages), the clipped-ratio objective is applied
// per token with a KL penalty to the reference model (k3 estimator; the reference is
// the policy with its adapter disabled), and the same rollouts may be reused for
// `iterations` optimizer steps with the ratio to the sampling policy.
// With objective "grpo" the rewards come from the rows' verifiers, or from a reward
// model folder (objective.reward_model) for instruction or preference prompts.
// Metrics: reward mean/std, accuracy (verifier passes), KL, clip fraction,
// completion length. Evaluation (prompt_rewards.h evaluatePolicy): one greedy
// completion per held-out prompt and num_generations sampled ones drawn with a
// fixed seed; mean reward and accuracy of each.
#pragma once

#include "align/align_context.h"
#include "align/index_batcher.h"
#include "align/prompt_rewards.h"
#include "train/objective.h"

#include <memory>

namespace ft::align {

struct RolloutBatch;

class GrpoObjective : public train::Objective {
public:
    GrpoObjective(std::string name, AlignContext context);
    ~GrpoObjective() override;
    std::string name() const override { return m_name; }
    int64_t batchesInEpoch(int64_t) const override;
    std::unique_ptr<train::ObjectiveBatch> nextBatch() override;
    train::BatchLoss loss(train::ObjectiveBatch& batch) override;
    bool hasEvalData() const override { return !m_eval.empty(); }
    train::EvalResult evaluate(int64_t maxBatches) override;
    nlohmann::json dataPosition() const override;
    void restoreDataPosition(const nlohmann::json& position) override;
    nlohmann::json dataSummary() const override;

private:
    std::string m_name;
    AlignContext m_x;
    std::unique_ptr<RewardSource> m_rewards;
    std::vector<RlPrompt> m_train, m_eval;
    IndexBatcher m_batcher;
    std::shared_ptr<RolloutBatch> m_reuse;  // rollouts kept for further iterations
    int64_t m_reuseLeft = 0;
    int64_t m_rolloutCount = 0;  // seeds the sampling of each rollout batch
};

} // namespace ft::align
