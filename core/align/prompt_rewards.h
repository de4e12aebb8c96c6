// What the on-policy objectives (GRPO, RLVR, PPO) share: prompts read from rows and
// tokenized with the run's prompt format, and the source of rewards for sampled
// completions: each row's verifier (verifiable rows, verifiers.h) or a trained
// reward model (reward_model.h) for any prompt rows.
#pragma once

#include "align/align_context.h"
#include "align/rollout.h"

#include <memory>
#include <string>
#include <vector>

namespace ft::eval {
class Verifier;
}

namespace ft::align {

class RewardScorer;

struct RlPrompt {
    std::vector<int64_t> ids;  // the rendered prompt, BOS included when the tokenizer adds it
    nlohmann::json prompt;     // as in the row (instruction rows: instruction + "\n" + input)
    std::string reference;     // verifiable rows
    std::shared_ptr<eval::Verifier> verifier;  // null with a reward model
    int64_t rowId = 0;
};

class RewardSource {
public:
    // rewardModelDir empty: rewards from verifiers, and every row must be verifiable.
    // verifierOverride non-empty: that verifier (default settings) for every row.
    RewardSource(const AlignContext& context, const std::string& rewardModelDir, const std::string& verifierOverride);
    ~RewardSource();

    // ft::Error naming the row when a prompt cannot be used (message lists, too long
    // for max_seq_len with maxNewTokens, not verifiable without a reward model).
    std::vector<RlPrompt> buildPrompts(const std::vector<data::Row>& rows, int64_t maxNewTokens) const;
    // Rewards and verifier passes of completions (passed is all false with a reward model).
    void score(const std::vector<const RlPrompt*>& prompts, const std::vector<std::string>& texts,
               std::vector<double>& rewards, std::vector<bool>& passed) const;
    bool usesRewardModel() const { return m_rewardModel != nullptr; }

private:
    const AlignContext& m_x;
    std::unique_ptr<RewardScorer> m_rewardModel;
    std::string m_verifierOverride;
};

// Rollout options from the run: EOS ids (generation_config.json, else the
// tokenizer's) and the pad id; sampling left at its defaults.
RolloutOptions rolloutDefaults(const AlignContext& context);

// rolloutDefaults with the objective's max_new_tokens, temperature and top_p
// settings and `samplesPerPrompt`.
RolloutOptions trainingSampling(const AlignContext& context, int64_t samplesPerPrompt);

// Completion texts without their EOS ids.
std::vector<std::string> completionTexts(const Rollouts& rollouts, const tok::Tokenizer& tokenizer,
                                         const std::vector<int64_t>& eosIds);

// The held-out evaluation of on-policy objectives: one greedy completion per prompt
// (what a user sees), and `samples` completions per prompt drawn as in training
// (temperature, top-p) with a fixed seed, so successive evaluations use the same
// random numbers and differences come from the policy. Prompts go in batches of
// batchSize (maxBatches 0 = all).
struct PolicyEval {
    double greedyReward = 0, greedyAccuracy = 0, greedyLength = 0;
    double sampledReward = 0, sampledAccuracy = 0;  // means over all samples
    int64_t prompts = 0;
    // loss -mean greedy reward; metrics reward, accuracy (verifiers only),
    // completion_length, sampled_reward, sampled_accuracy, prompts.
    void fill(double& loss, nlohmann::json& metrics, bool withAccuracy) const;
};
PolicyEval evaluatePolicy(const AlignContext& context, const RewardSource& rewards, const std::vector<RlPrompt>& prompts,
                          const RolloutOptions& sampling, int64_t maxBatches);

} // namespace ft::align
