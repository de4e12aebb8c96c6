// RLHF with PPO (Ziegler et al. 2019; Ouyang et al. 2022) as an Objective. Each
// rollout batch: training.batch_size prompts, completions sampled from the policy
// with the KV cache; the score of a reward model (objective.reward_model) or of the
// rows' verifiers, given at the last token, minus a per-token KL penalty to the
// reference (reference_policy.h: the policy with its adapter disabled, or for
// full/freeze a frozen copy), fixed or adaptive coefficient;
// a value head on the policy's hidden states (shared trunk, as TRL's value-head
// model) gives V; GAE gives advantages (whitened) and returns; then ppo_epochs
// optimizer steps on that batch with the clipped policy loss plus vf_coef times the
// clipped value loss. Metrics: reward, KL, kl_coef, entropy, clip fraction, value
// loss, completion length. Evaluation (prompt_rewards.h evaluatePolicy): greedy
// completions of the held-out prompts and four sampled ones each, mean reward.
#pragma once

#include "align/on_policy_objective.h"
#include "align/policy_gradient.h"

namespace ft::align {

class PpoObjective : public OnPolicyObjective {
public:
    explicit PpoObjective(AlignContext context);
    std::string name() const override { return "ppo"; }
    train::BatchLoss loss(train::ObjectiveBatch& batch) override;
    std::vector<std::pair<std::string, at::Tensor>> extraTrainable() override;

protected:
    std::unique_ptr<OnPolicyBatch> buildBatch(ScoredRollouts& scored) override;
    void savePosition(nlohmann::json& position) const override;
    void loadPosition(const nlohmann::json& position) override;

private:
    // Log-probs (N, L) of the completion tokens, values (N, L) and optionally the
    // entropy (N, L), from one forward pass of the policy.
    void forward(const Rollouts& r, at::Tensor& logp, at::Tensor& values, at::Tensor* entropy);

    KlController m_kl;
    at::Tensor m_valueWeight;  // (1, C) fp32, trainable
    at::Tensor m_valueBias;    // (1,)
};

} // namespace ft::align
