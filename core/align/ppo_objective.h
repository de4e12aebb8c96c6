// RLHF with PPO (Ziegler et al. 2019; Ouyang et al. 2022) as an Objective. Each
// rollout batch: training.batch_size prompts, completions sampled from the policy
// with the KV cache; the score of a reward model (objective.reward_model) or of the
// rows' verifiers, given at the last token, minus a per-token KL penalty to the
// reference (the policy with its adapter disabled), fixed or adaptive coefficient;
// a value head on the policy's hidden states (shared trunk, as TRL's value-head
// model) gives V; GAE gives advantages (whitened) and returns; then ppo_epochs
// optimizer steps on that batch with the clipped policy loss plus vf_coef times the
// clipped value loss. Metrics: reward, KL, kl_coef, entropy, clip fraction, value
// loss, completion length. Evaluation (prompt_rewards.h evaluatePolicy): greedy
// completions of the held-out prompts and four sampled ones each, mean reward.
#pragma once

#include "align/align_context.h"
#include "align/index_batcher.h"
#include "align/policy_gradient.h"
#include "align/prompt_rewards.h"
#include "train/objective.h"

#include <memory>

namespace ft::align {

struct PpoBatch;

class PpoObjective : public train::Objective {
public:
    explicit PpoObjective(AlignContext context);
    ~PpoObjective() override;
    std::string name() const override { return "ppo"; }
    int64_t batchesInEpoch(int64_t) const override;
    std::unique_ptr<train::ObjectiveBatch> nextBatch() override;
    train::BatchLoss loss(train::ObjectiveBatch& batch) override;
    bool hasEvalData() const override { return !m_eval.empty(); }
    train::EvalResult evaluate(int64_t maxBatches) override;
    nlohmann::json dataPosition() const override;
    void restoreDataPosition(const nlohmann::json& position) override;
    nlohmann::json dataSummary() const override;
    std::vector<std::pair<std::string, at::Tensor>> extraTrainable() override;

private:
    // Log-probs (N, L) of the completion tokens, values (N, L) and optionally the
    // entropy (N, L), from one forward pass of the policy.
    void forward(const Rollouts& r, at::Tensor& logp, at::Tensor& values, at::Tensor* entropy);

    AlignContext m_x;
    std::unique_ptr<RewardSource> m_rewards;
    std::vector<RlPrompt> m_train, m_eval;
    IndexBatcher m_batcher;
    KlController m_kl;
    at::Tensor m_valueWeight;  // (1, C) fp32, trainable
    at::Tensor m_valueBias;    // (1,)
    std::shared_ptr<PpoBatch> m_reuse;
    int64_t m_reuseLeft = 0;
    int64_t m_rolloutCount = 0;
};

} // namespace ft::align
