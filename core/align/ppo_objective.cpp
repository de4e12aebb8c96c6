#include "align/ppo_objective.h"

#include "model/eval_mode.h"
#include "peft/adapter.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::align {

namespace {

struct PpoBatch : OnPolicyBatch {
    at::Tensor oldLogps, oldValues;  // (N, L)
    at::Tensor advantages, returns;  // (N, L)
    std::unique_ptr<OnPolicyBatch> clone() const override { return std::make_unique<PpoBatch>(*this); }
};

KlController makeController(const AlignContext& x)
{
    if (x.settings.value("adaptive_kl", false))
        return KlController::adaptive(x.number("kl_coef"), x.number("target_kl"), x.integer("kl_horizon"));
    return KlController::fixed(x.number("kl_coef"));
}

} // namespace

PpoObjective::PpoObjective(AlignContext context) : OnPolicyObjective(std::move(context)), m_kl(makeController(m_x))
{
    OnPolicyOptions o;
    o.rewardModel = m_x.text("reward_model");
    o.samplesPerPrompt = 1;
    o.stepsPerBatch = m_x.integer("ppo_epochs");
    o.evalSamples = 4;
    o.seedStride = 104729;
    o.needsReference = m_kl.coef() > 0 || m_kl.isAdaptive();
    setUp(std::move(o));
    const auto options = at::TensorOptions().dtype(at::kFloat).device(m_x.device);
    m_valueWeight = at::zeros({1, m_x.model->config().hiddenSize}, options).set_requires_grad(true);
    m_valueBias = at::zeros({1}, options).set_requires_grad(true);
}

std::vector<std::pair<std::string, at::Tensor>> PpoObjective::extraTrainable()
{
    return {{"v_head.summary.weight", m_valueWeight}, {"v_head.summary.bias", m_valueBias}};
}

void PpoObjective::forward(const Rollouts& r, at::Tensor& logp, at::Tensor& values, at::Tensor* entropy)
{
    const int64_t p = r.promptLength, l = r.completionMask.size(1);
    at::Tensor hidden = m_x.model->hidden(r.sequences, r.attentionMask);  // (N, P + L, C)
    at::Tensor h = hidden.narrow(1, p - 1, l);                             // (N, L, C): states before each token
    at::Tensor logits = m_x.model->logitsFromHidden(h).to(at::kFloat) / m_x.number("temperature");  // (N, L, V)
    at::Tensor tokens = r.sequences.narrow(1, p, l);                                              // (N, L)
    at::Tensor mask = r.completionMask.to(at::kFloat);
    logp = at::log_softmax(logits, -1).gather(2, tokens.unsqueeze(2)).squeeze(2) * mask;
    values = (at::matmul(h.to(at::kFloat), m_valueWeight.t()).squeeze(2) + m_valueBias) * mask;
    if (entropy)
        *entropy = entropyFromLogits(logits) * mask;
}

std::unique_ptr<OnPolicyBatch> PpoObjective::buildBatch(ScoredRollouts& s)
{
    auto b = std::make_unique<PpoBatch>();
    b->rollouts = std::move(s.rollouts);
    const Rollouts& r = b->rollouts;
    at::Tensor refLogps;
    {
        torch::NoGradGuard noGrad;
        model::EvalModeGuard evalMode(*m_x.model);
        forward(r, b->oldLogps, b->oldValues, nullptr);
    }
    refLogps = m_reference ? m_reference->completionLogprobs(r, m_x.number("temperature")) : b->oldLogps;

    torch::NoGradGuard noGrad;
    // Per-token rewards: -kl_coef * (log pi - log pi_ref), plus the score on the last token.
    at::Tensor mask = r.completionMask.to(at::kFloat);                    // (N, L)
    at::Tensor klPerToken = (b->oldLogps - refLogps) * mask;              // (N, L)
    at::Tensor rewards = -m_kl.coef() * klPerToken;
    at::Tensor last = (r.completionMask.sum(1) - 1).clamp_min(0);         // (N,)
    at::Tensor scoreT = at::tensor(s.rewards, at::kFloat).to(m_x.device);
    rewards.index_put_({at::arange(rewards.size(0), last.options()), last},
                       rewards.index({at::arange(rewards.size(0), last.options()), last}) + scoreT);
    GaeResult gae = generalizedAdvantages(rewards, b->oldValues, mask, m_x.number("gamma"), m_x.number("lam"));
    b->returns = gae.returns;
    b->advantages = m_x.settings.value("whiten_advantages", true) ? maskedWhiten(gae.advantages, mask) * mask
                                                                   : gae.advantages;
    const double klMean = klPerToken.sum(1).mean().item<double>();
    b->metrics = {{"kl", klMean}, {"kl_coef", m_kl.coef()}};
    m_kl.update(klMean, int64_t(s.rewards.size()));
    return b;
}

train::BatchLoss PpoObjective::loss(train::ObjectiveBatch& batch)
{
    auto& b = static_cast<PpoBatch&>(batch);
    at::Tensor logp, values, entropy;
    forward(b.rollouts, logp, values, &entropy);
    at::Tensor mask = b.rollouts.completionMask.to(at::kFloat);
    const double clip = m_x.number("cliprange");
    ClippedPolicyLoss pg = clippedPolicyLoss(logp, b.oldLogps, b.advantages, mask, clip, clip);
    at::Tensor vf = clippedValueLoss(values, b.oldValues, b.returns, mask, m_x.number("cliprange_value"));
    at::Tensor policyLoss = maskedMean(pg.perToken, mask), valueLoss = maskedMean(vf, mask);
    nlohmann::json metrics = b.metrics;
    metrics["policy_loss"] = policyLoss.item<double>();
    metrics["value_loss"] = valueLoss.item<double>();
    metrics["clip_fraction"] = pg.clipFraction.item<double>();
    metrics["entropy"] = maskedMean(entropy.detach(), mask).item<double>();
    metrics["approx_kl"] = maskedMean(0.5 * (logp.detach() - b.oldLogps).pow(2), mask).item<double>();
    const double n = double(b.rollouts.completions.size());
    return {(policyLoss + m_x.number("vf_coef") * valueLoss) * n, metrics};
}

void PpoObjective::savePosition(nlohmann::json& position) const { position["kl_controller"] = m_kl.toJson(); }

void PpoObjective::loadPosition(const nlohmann::json& position)
{
    if (position.contains("kl_controller"))
        m_kl = KlController::fromJson(position["kl_controller"]);
}

} // namespace ft::align
