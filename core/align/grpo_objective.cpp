#include "align/grpo_objective.h"

#include "align/policy_gradient.h"
#include "model/eval_mode.h"
#include "peft/adapter.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>

namespace ft::align {

namespace {

struct GrpoBatch : OnPolicyBatch {
    at::Tensor advantages;  // (N,)
    at::Tensor oldLogps;    // (N, L), undefined when iterations == 1 (ratio to the detached current policy)
    at::Tensor refLogps;    // (N, L), undefined when beta == 0
    std::unique_ptr<OnPolicyBatch> clone() const override { return std::make_unique<GrpoBatch>(*this); }
};

OnPolicyOptions grpoOptions(const std::string& name, const AlignContext& x)
{
    OnPolicyOptions o;
    o.rewardModel = x.settings.value("reward_model", std::string());
    if (name == "rlvr" && !o.rewardModel.empty())
        fail("objective.reward_model: RLVR takes its rewards from the rows' verifiers; use objective \"grpo\" to "
             "train against a reward model");
    o.verifier = x.text("verifier");
    o.samplesPerPrompt = x.integer("num_generations");
    o.stepsPerBatch = std::max<int64_t>(1, x.integer("iterations"));
    o.evalSamples = x.integer("num_generations");
    o.seedStride = 7919;
    o.needsReference = x.number("beta") > 0;
    return o;
}

} // namespace

GrpoObjective::GrpoObjective(std::string name, AlignContext context)
    : OnPolicyObjective(std::move(context)), m_name(std::move(name))
{
    setUp(grpoOptions(m_name, m_x));
}

std::unique_ptr<OnPolicyBatch> GrpoObjective::buildBatch(ScoredRollouts& s)
{
    auto b = std::make_unique<GrpoBatch>();
    b->rollouts = std::move(s.rollouts);
    const Rollouts& r = b->rollouts;
    const at::Tensor rewardT = at::tensor(s.rewards, at::kDouble);
    b->advantages = groupAdvantages(rewardT, s.sampling.samplesPerPrompt, m_x.settings.value("scale_rewards", true))
                        .to(at::kFloat)
                        .to(m_x.device);
    const double temperature = s.sampling.temperature > 0 ? s.sampling.temperature : 1.0;
    if (std::max<int64_t>(1, m_x.integer("iterations")) > 1) {
        torch::NoGradGuard noGrad;
        model::EvalModeGuard evalMode(*m_x.model);
        b->oldLogps = completionLogprobs(m_x.model, r, temperature);
    }
    if (m_reference)
        b->refLogps = m_reference->completionLogprobs(r, temperature);
    b->metrics["reward_std"] = rewardT.numel() > 1 ? rewardT.std().item<double>() : 0.0;
    return b;
}

train::BatchLoss GrpoObjective::loss(train::ObjectiveBatch& batch)
{
    auto& b = static_cast<GrpoBatch&>(batch);
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

} // namespace ft::align
