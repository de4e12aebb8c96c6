// What PPO, GRPO and RLVR share, in one place: prompts built from the rows, a batch
// of training.batch_size prompts sampled from the current policy with seeded draws
// (the KV-cached rollouts of rollout.h), scored by the rows' verifiers or a reward
// model, the same rollouts reused for several optimizer steps, the reference policy
// of the KL term (reference_policy.h), the common metrics (reward, accuracy,
// completion length, rollout speed), the held-out evaluation and the data position
// that checkpoints keep. An objective adds only what differs: how many completions
// per prompt, how many steps per batch, and how a scored batch becomes its training
// tensors and loss (grpo_objective.cpp, ppo_objective.cpp).
// Not here: the policy-gradient math (policy_gradient.h), rewards (prompt_rewards.h).
#pragma once

#include "align/align_context.h"
#include "align/index_batcher.h"
#include "align/prompt_rewards.h"
#include "align/reference_policy.h"
#include "align/rollout.h"
#include "train/objective.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ft::align {

// One batch of rollouts and what the objective derived from it.
struct OnPolicyBatch : train::ObjectiveBatch {
    Rollouts rollouts;
    nlohmann::json metrics = nlohmann::json::object();
    // A copy for the next optimizer step on the same rollouts.
    virtual std::unique_ptr<OnPolicyBatch> clone() const = 0;
};

// The rollouts of one batch with their scores, handed to buildBatch().
struct ScoredRollouts {
    Rollouts rollouts;
    std::vector<const RlPrompt*> prompts;  // per row
    std::vector<double> rewards;           // per row
    std::vector<bool> passed;              // per row; all false with a reward model
    RolloutOptions sampling;
};

// What an on-policy objective differs in, besides its batch tensors and loss.
struct OnPolicyOptions {
    std::string rewardModel;      // a reward model folder, or empty: the rows' verifiers
    std::string verifier;         // a verifier for every row instead of the row's own
    int64_t samplesPerPrompt = 1;  // completions sampled per prompt (GRPO's G)
    int64_t stepsPerBatch = 1;     // optimizer steps on each batch (GRPO iterations, PPO epochs)
    int64_t evalSamples = 4;       // sampled completions per held-out prompt
    uint64_t seedStride = 1;       // rollout batch k draws from seed * seedStride + k
    bool needsReference = false;   // the KL term is on
};

class OnPolicyObjective : public train::Objective {
public:
    ~OnPolicyObjective() override;
    int64_t batchesInEpoch(int64_t) const override;
    std::unique_ptr<train::ObjectiveBatch> nextBatch() final;
    bool hasEvalData() const override { return !m_eval.empty(); }
    train::EvalResult evaluate(int64_t maxBatches) override;
    nlohmann::json dataPosition() const override;
    void restoreDataPosition(const nlohmann::json& position) override;
    nlohmann::json dataSummary() const override;

protected:
    explicit OnPolicyObjective(AlignContext context);
    // Called once by the objective's constructor, with options read from m_x: builds
    // the prompts, the reward source and the reference.
    void setUp(OnPolicyOptions options);

    // The objective's tensors and metrics of a freshly scored batch (the common metrics,
    // epoch, weight and tokens are filled in by nextBatch()).
    virtual std::unique_ptr<OnPolicyBatch> buildBatch(ScoredRollouts& scored) = 0;
    // Extra state for checkpoints (PPO's KL controller).
    virtual void savePosition(nlohmann::json& position) const { (void)position; }
    virtual void loadPosition(const nlohmann::json& position) { (void)position; }

    AlignContext m_x;
    std::unique_ptr<RewardSource> m_rewards;
    std::optional<ReferencePolicy> m_reference;  // set when options.needsReference

private:
    OnPolicyOptions m_options;
    std::vector<RlPrompt> m_train, m_eval;
    IndexBatcher m_batcher;
    std::unique_ptr<OnPolicyBatch> m_reuse;  // the batch kept for further optimizer steps
    int64_t m_reuseLeft = 0;
    int64_t m_rolloutCount = 0;  // seeds the sampling of each rollout batch
};

} // namespace ft::align
