// The shared on-policy loop; see on_policy_objective.h.
#include "align/on_policy_objective.h"

#include "util/error.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace ft::align {

OnPolicyObjective::OnPolicyObjective(AlignContext context) : m_x(std::move(context)), m_batcher(1, 1, 0) {}

void OnPolicyObjective::setUp(OnPolicyOptions options)
{
    m_options = std::move(options);
    m_rewards = std::make_unique<RewardSource>(m_x, m_options.rewardModel, m_options.verifier);
    m_train = m_rewards->buildPrompts(m_x.trainRows, m_x.integer("max_new_tokens"));
    m_eval = m_rewards->buildPrompts(m_x.evalRows, m_x.integer("max_new_tokens"));
    if (m_train.empty())
        fail("data.train: no prompts to train on");
    m_batcher = IndexBatcher(int64_t(m_train.size()), m_x.batchSize, m_x.seed, m_x.shard);
    if (m_options.needsReference)
        m_reference.emplace(m_x.model, m_x.adapter, m_x.fullModel);
    if (m_reference && m_reference->copyBytes() > 0 && m_x.events)
        m_x.events->log("info", "KL reference: a frozen copy of the " +
                                    std::to_string(m_reference->copyBytes() / (1024 * 1024)) +
                                    " MiB of trained weights (full/freeze fine-tuning has no adapter to disable)");
}

OnPolicyObjective::~OnPolicyObjective() = default;

int64_t OnPolicyObjective::batchesInEpoch(int64_t) const
{
    return m_batcher.batchesPerEpoch() * std::max<int64_t>(1, m_options.stepsPerBatch);
}

std::unique_ptr<train::ObjectiveBatch> OnPolicyObjective::nextBatch()
{
    if (m_reuse && m_reuseLeft > 0) {
        --m_reuseLeft;
        auto again = m_reuse->clone();
        again->epochEnded = m_reuseLeft == 0 && m_reuse->epochEnded;  // the last reuse ends the epoch
        return again;
    }
    const BatchIndices next = m_batcher.next();
    std::vector<std::vector<int64_t>> promptIds;
    for (int64_t i : next.indices)
        promptIds.push_back(m_train[size_t(i)].ids);
    const int64_t g = m_options.samplesPerPrompt;
    ScoredRollouts s;
    s.sampling = trainingSampling(m_x, g);
    s.sampling.seed = m_x.seed * m_options.seedStride + uint64_t(m_rolloutCount++);
    s.rollouts = generateRollouts(m_x.model, promptIds, s.sampling);
    for (size_t row = 0; row < s.rollouts.completions.size(); ++row)
        s.prompts.push_back(&m_train[size_t(next.indices[row / size_t(g)])]);
    m_rewards->score(s.prompts, completionTexts(s.rollouts, *m_x.tokenizer, s.sampling.eosIds), s.rewards, s.passed);

    std::unique_ptr<OnPolicyBatch> b = buildBatch(s);
    const Rollouts& r = b->rollouts;
    const at::Tensor rewards = at::tensor(s.rewards, at::kDouble);
    b->metrics["reward"] = rewards.mean().item<double>();
    b->metrics["completion_length"] = r.completionMask.sum(1).to(at::kDouble).mean().item<double>();
    b->metrics["rollout_tokens_per_second"] = double(r.generatedTokens) / std::max(r.seconds, 1e-9);
    if (!m_rewards->usesRewardModel())
        b->metrics["accuracy"] =
            double(std::count(s.passed.begin(), s.passed.end(), true)) / double(std::max<size_t>(1, s.passed.size()));
    b->epoch = next.epoch;
    b->weight = double(r.completions.size());
    b->tokens = r.attentionMask.sum().item<int64_t>();
    const int64_t steps = std::max<int64_t>(1, m_options.stepsPerBatch);
    b->epochEnded = next.epochEnded && steps == 1;
    if (steps > 1) {
        m_reuse = b->clone();
        m_reuse->epochEnded = next.epochEnded;
        m_reuseLeft = steps - 1;
    }
    return b;
}

train::EvalResult OnPolicyObjective::evaluate(int64_t maxBatches)
{
    RolloutOptions sampling = trainingSampling(m_x, m_options.evalSamples);
    sampling.seed = m_x.seed + 424242ULL;  // the same draws at every evaluation
    PolicyEval e = evaluatePolicy(m_x, *m_rewards, m_eval, sampling, maxBatches);
    train::EvalResult out;
    out.hasPerplexity = false;
    e.fill(out.loss, out.metrics, !m_rewards->usesRewardModel());
    return out;
}

nlohmann::json OnPolicyObjective::dataPosition() const
{
    nlohmann::json p = m_batcher.position();
    p["rollouts"] = m_rolloutCount;
    savePosition(p);
    return p;
}

void OnPolicyObjective::restoreDataPosition(const nlohmann::json& position)
{
    m_batcher.restore(position);
    m_rolloutCount = position.value("rollouts", int64_t(0));
    loadPosition(position);
    // Rollouts kept for further steps are not in the checkpoint: a resumed run starts
    // the next batch with fresh rollouts.
    m_reuse.reset();
    m_reuseLeft = 0;
}

nlohmann::json OnPolicyObjective::dataSummary() const
{
    return {{"train_prompts", m_train.size()},
            {"eval_prompts", m_eval.size()},
            {"rewards", m_rewards->usesRewardModel() ? "reward model" : "verifiers"}};
}

} // namespace ft::align
