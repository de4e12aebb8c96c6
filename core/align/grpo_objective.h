// GRPO (Shao et al. 2024, DeepSeekMath) as an Objective, and RLVR: GRPO whose rewards
// come from verifiers (exact match, numeric, regex, JSON schema, format, length,
// composites; verifiers.h) named by each verifiable row. A micro-batch is
// training.batch_size prompts; for each, num_generations completions are sampled
// with the KV cache (rollout.h) from the current policy. Rewards are normalized
// within each prompt's group (advantages), the clipped-ratio objective is applied
// per token with a KL penalty to the reference model (k3 estimator; reference_policy.h:
// the policy with its adapter disabled, or for full/freeze a frozen copy), and the same rollouts may be reused for
// `iterations` optimizer steps with the ratio to the sampling policy.
// With objective "grpo" the rewards come from the rows' verifiers, or from a reward
// model folder (objective.reward_model) for instruction or preference prompts.
// Metrics: reward mean/std, accuracy (verifier passes), KL, clip fraction,
// completion length. Evaluation (prompt_rewards.h evaluatePolicy): one greedy
// completion per held-out prompt and num_generations sampled ones drawn with a
// fixed seed; mean reward and accuracy of each.
#pragma once

#include "align/on_policy_objective.h"

namespace ft::align {

class GrpoObjective : public OnPolicyObjective {
public:
    GrpoObjective(std::string name, AlignContext context);
    std::string name() const override { return m_name; }
    train::BatchLoss loss(train::ObjectiveBatch& batch) override;

protected:
    std::unique_ptr<OnPolicyBatch> buildBatch(ScoredRollouts& scored) override;

private:
    std::string m_name;
};

} // namespace ft::align
