#include "align/grpo_objective.h"

#include "align/policy_gradient.h"
#include "align/rollout.h"
#include "model/eval_mode.h"
#include "peft/adapter.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <cmath>
#include <map>

namespace ft::align {

struct RolloutBatch : train::ObjectiveBatch {
    Rollouts rollouts;
    at::Tensor advantages;  // (N,)
    at::Tensor oldLogps;    // (N, L), undefined when iterations == 1 (ratio to the detached current policy)
    at::Tensor refLogps;    // (N, L), undefined when beta == 0
    nlohmann::json metrics;
};

GrpoObjective::GrpoObjective(std::string name, AlignContext context)
    : m_name(std::move(name)), m_x(std::move(context)), m_batcher(1, 1, 0)
{
    const std::string rewardModel = m_x.settings.value("reward_model", std::string());
    if (m_name == "rlvr" && !rewardModel.empty())
        fail("objective.reward_model: RLVR takes its rewards from the rows' verifiers; use objective \"grpo\" to "
             "train against a reward model");
    if (m_x.fullModel && m_x.number("beta") > 0)
        fail("objective.beta: the KL penalty needs the reference model, which full and freeze fine-tuning cannot get "
             "by disabling an adapter; use an adapter technique (lora, qlora, ...) or set beta to 0");
    m_rewards = std::make_unique<RewardSource>(m_x, rewardModel, m_x.text("verifier"));
    m_train = m_rewards->buildPrompts(m_x.trainRows, m_x.integer("max_new_tokens"));
    m_eval = m_rewards->buildPrompts(m_x.evalRows, m_x.integer("max_new_tokens"));
    if (m_train.empty())
        fail("data.train: no prompts to train on");
    m_batcher = IndexBatcher(int64_t(m_train.size()), m_x.batchSize, m_x.seed);
}

GrpoObjective::~GrpoObjective() = default;

int64_t GrpoObjective::batchesInEpoch(int64_t) const
{
    return m_batcher.batchesPerEpoch() * std::max<int64_t>(1, m_x.integer("iterations"));
}

std::unique_ptr<train::ObjectiveBatch> GrpoObjective::nextBatch()
{
    const int64_t iterations = std::max<int64_t>(1, m_x.integer("iterations"));
    if (m_reuse && m_reuseLeft > 0) {
        --m_reuseLeft;
        auto again = std::make_unique<RolloutBatch>(*m_reuse);
        again->epochEnded = m_reuseLeft == 0 && m_reuse->epochEnded;
        return again;
    }
    BatchIndices next = m_batcher.next();
    std::vector<std::vector<int64_t>> promptIds;
    for (int64_t i : next.indices)
        promptIds.push_back(m_train[size_t(i)].ids);

    const int64_t g = m_x.integer("num_generations");
    RolloutOptions options = trainingSampling(m_x, g);
    options.seed = m_x.seed * 7919ULL + uint64_t(m_rolloutCount++);

    auto b = std::make_shared<RolloutBatch>();
    b->rollouts = generateRollouts(m_x.model, promptIds, options);
    const Rollouts& r = b->rollouts;

    std::vector<const RlPrompt*> owners;
    for (size_t row = 0; row < r.completions.size(); ++row)
        owners.push_back(&m_train[size_t(next.indices[row / size_t(g)])]);
    std::vector<double> rewards;
    std::vector<bool> passed;
    m_rewards->score(owners, completionTexts(r, *m_x.tokenizer, options.eosIds), rewards, passed);
    at::Tensor rewardT = at::tensor(rewards, at::kDouble);
    b->advantages = groupAdvantages(rewardT, g, m_x.settings.value("scale_rewards", true)).to(at::kFloat).to(m_x.device);

    {
        torch::NoGradGuard noGrad;
        model::EvalModeGuard evalMode(*m_x.model);
        const double temperature = options.temperature > 0 ? options.temperature : 1.0;
        if (iterations > 1)
            b->oldLogps = completionLogprobs(m_x.model, r, temperature);
        if (m_x.number("beta") > 0) {
            std::unique_ptr<peft::AdaptersDisabled> off;
            if (m_x.adapter)
                off = std::make_unique<peft::AdaptersDisabled>(std::vector<peft::Adapter*>{m_x.adapter});
            b->refLogps = completionLogprobs(m_x.model, r, temperature);
        }
    }

    double passes = 0;
    for (bool p : passed)
        passes += p ? 1 : 0;
    const at::Tensor lengths = r.completionMask.sum(1).to(at::kDouble);
    b->metrics = {{"reward", rewardT.mean().item<double>()},
                  {"reward_std", rewardT.numel() > 1 ? rewardT.std().item<double>() : 0.0},
                  {"completion_length", lengths.mean().item<double>()},
                  {"rollout_tokens_per_second", double(r.generatedTokens) / std::max(r.seconds, 1e-9)}};
    if (!m_rewards->usesRewardModel())
        b->metrics["accuracy"] = passes / double(std::max<size_t>(1, passed.size()));
    b->epoch = next.epoch;
    b->epochEnded = next.epochEnded && iterations == 1;
    b->weight = double(r.completions.size());
    b->tokens = r.attentionMask.sum().item<int64_t>();
    if (iterations > 1) {
        m_reuse = b;  // the same batch: its last reuse ends the epoch, not this first pass
        m_reuse->epochEnded = next.epochEnded;
        m_reuseLeft = iterations - 1;
    }
    auto first = std::make_unique<RolloutBatch>(*b);
    first->epochEnded = next.epochEnded && iterations == 1;
    return first;
}

train::BatchLoss GrpoObjective::loss(train::ObjectiveBatch& batch)
{
    auto& b = static_cast<RolloutBatch&>(batch);
    const Rollouts& r = b.rollouts;
    const double temperature = m_x.number("temperature") > 0 ? m_x.number("temperature") : 1.0;
    at::Tensor logp = completionLogprobs(m_x.model, r, temperature);  // (N, L)
    at::Tensor mask = r.completionMask.to(logp.scalar_type());
    at::Tensor old = b.oldLogps.defined() ? b.oldLogps : logp.detach();
    ClippedPolicyLoss pg = clippedPolicyLoss(logp, old, b.advantages.unsqueeze(1), mask, m_x.number("epsilon"),
                                             m_x.number("epsilon_high") > 0 ? m_x.number("epsilon_high")
                                                                           : m_x.number("epsilon"));
    at::Tensor perToken = pg.perToken;
    nlohmann::json metrics = b.metrics;
    if (b.refLogps.defined()) {
        at::Tensor kl = k3KlEstimate(logp, b.refLogps);
        perToken = perToken + m_x.number("beta") * kl;
        metrics["kl"] = maskedMean(kl.detach(), mask).item<double>();
    }
    metrics["clip_fraction"] = pg.clipFraction.item<double>();
    at::Tensor sum;
    if (m_x.text("loss_normalization") == "token") {
        // DAPO's token-level sum: longer completions weigh more. Normalized by tokens
        // within the micro-batch, scaled to the batch's sequence weight.
        sum = (perToken * mask).sum() / mask.sum().clamp_min(1) * double(r.completions.size());
    } else {
        sum = ((perToken * mask).sum(1) / mask.sum(1).clamp_min(1)).sum();  // GRPO: mean per sequence
    }
    return {sum, metrics};
}

train::EvalResult GrpoObjective::evaluate(int64_t maxBatches)
{
    RolloutOptions sampling = trainingSampling(m_x, m_x.integer("num_generations"));
    sampling.seed = m_x.seed + 424242ULL;  // the same draws at every evaluation
    PolicyEval e = evaluatePolicy(m_x, *m_rewards, m_eval, sampling, maxBatches);
    train::EvalResult out;
    out.hasPerplexity = false;
    e.fill(out.loss, out.metrics, !m_rewards->usesRewardModel());
    return out;
}

nlohmann::json GrpoObjective::dataPosition() const
{
    nlohmann::json p = m_batcher.position();
    p["rollouts"] = m_rolloutCount;
    return p;
}

void GrpoObjective::restoreDataPosition(const nlohmann::json& position)
{
    m_batcher.restore(position);
    m_rolloutCount = position.value("rollouts", int64_t(0));
    // Rollouts kept for further iterations are not in the checkpoint: a resumed run
    // starts the next batch with fresh rollouts.
    m_reuse.reset();
    m_reuseLeft = 0;
}

nlohmann::json GrpoObjective::dataSummary() const
{
    return {{"train_prompts", m_train.size()},
            {"eval_prompts", m_eval.size()},
            {"rewards", m_rewards->usesRewardModel() ? "reward model" : "verifiers"}};
}

} // namespace ft::align
