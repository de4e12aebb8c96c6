#include "align/ppo_objective.h"

#include "model/eval_mode.h"
#include "peft/adapter.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::align {

struct PpoBatch : train::ObjectiveBatch {
    Rollouts rollouts;
    at::Tensor oldLogps, oldValues;  // (N, L)
    at::Tensor advantages, returns;  // (N, L)
    nlohmann::json metrics;
};

namespace {

KlController makeController(const AlignContext& x)
{
    if (x.settings.value("adaptive_kl", false))
        return KlController::adaptive(x.number("kl_coef"), x.number("target_kl"), x.integer("kl_horizon"));
    return KlController::fixed(x.number("kl_coef"));
}

} // namespace

PpoObjective::PpoObjective(AlignContext context)
    : m_x(std::move(context)), m_batcher(1, 1, 0), m_kl(makeController(m_x))
{
    const std::string rewardModel = m_x.text("reward_model");
    if (m_x.fullModel && m_x.number("kl_coef") > 0)
        fail("objective.kl_coef: the KL penalty needs the reference model, which full and freeze fine-tuning cannot "
             "get by disabling an adapter; use an adapter technique (lora, qlora, ...) or set kl_coef to 0");
    m_rewards = std::make_unique<RewardSource>(m_x, rewardModel, std::string());
    m_train = m_rewards->buildPrompts(m_x.trainRows, m_x.integer("max_new_tokens"));
    m_eval = m_rewards->buildPrompts(m_x.evalRows, m_x.integer("max_new_tokens"));
    if (m_train.empty())
        fail("data.train: no prompts to train on");
    m_batcher = IndexBatcher(int64_t(m_train.size()), m_x.batchSize, m_x.seed);
    const auto options = at::TensorOptions().dtype(at::kFloat).device(m_x.device);
    m_valueWeight = at::zeros({1, m_x.model->config().hiddenSize}, options).set_requires_grad(true);
    m_valueBias = at::zeros({1}, options).set_requires_grad(true);
}

PpoObjective::~PpoObjective() = default;

int64_t PpoObjective::batchesInEpoch(int64_t) const
{
    return m_batcher.batchesPerEpoch() * m_x.integer("ppo_epochs");
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

std::unique_ptr<train::ObjectiveBatch> PpoObjective::nextBatch()
{
    if (m_reuse && m_reuseLeft > 0) {
        --m_reuseLeft;
        auto again = std::make_unique<PpoBatch>(*m_reuse);
        again->epochEnded = m_reuseLeft == 0 && m_reuse->epochEnded;
        return again;
    }
    BatchIndices next = m_batcher.next();
    std::vector<std::vector<int64_t>> promptIds;
    for (int64_t i : next.indices)
        promptIds.push_back(m_train[size_t(i)].ids);
    RolloutOptions options = trainingSampling(m_x, 1);
    options.seed = m_x.seed * 104729ULL + uint64_t(m_rolloutCount++);

    auto b = std::make_shared<PpoBatch>();
    b->rollouts = generateRollouts(m_x.model, promptIds, options);
    const Rollouts& r = b->rollouts;
    std::vector<const RlPrompt*> owners;
    for (int64_t i : next.indices)
        owners.push_back(&m_train[size_t(i)]);
    std::vector<double> scores;
    std::vector<bool> passed;
    m_rewards->score(owners, completionTexts(r, *m_x.tokenizer, options.eosIds), scores, passed);

    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*m_x.model);
    at::Tensor refLogps;
    forward(r, b->oldLogps, b->oldValues, nullptr);
    if (m_kl.coef() > 0 || m_kl.isAdaptive()) {
        std::unique_ptr<peft::AdaptersDisabled> off;
        if (m_x.adapter && !m_x.fullModel)
            off = std::make_unique<peft::AdaptersDisabled>(std::vector<peft::Adapter*>{m_x.adapter});
        refLogps = completionLogprobs(m_x.model, r, m_x.number("temperature"));
    } else {
        refLogps = b->oldLogps;
    }

    // Per-token rewards: -kl_coef * (log pi - log pi_ref), plus the score on the last token.
    at::Tensor mask = r.completionMask.to(at::kFloat);                    // (N, L)
    at::Tensor klPerToken = (b->oldLogps - refLogps) * mask;              // (N, L)
    at::Tensor rewards = -m_kl.coef() * klPerToken;
    at::Tensor last = (r.completionMask.sum(1) - 1).clamp_min(0);         // (N,)
    at::Tensor scoreT = at::tensor(scores, at::kFloat).to(m_x.device);
    rewards.index_put_({at::arange(rewards.size(0), last.options()), last},
                       rewards.index({at::arange(rewards.size(0), last.options()), last}) + scoreT);
    GaeResult gae = generalizedAdvantages(rewards, b->oldValues, mask, m_x.number("gamma"), m_x.number("lam"));
    b->returns = gae.returns;
    b->advantages = m_x.settings.value("whiten_advantages", true) ? maskedWhiten(gae.advantages, mask) * mask
                                                                   : gae.advantages;
    const double klMean = klPerToken.sum(1).mean().item<double>();
    b->metrics = {{"reward", scoreT.to(at::kDouble).mean().item<double>()},
                  {"kl", klMean},
                  {"kl_coef", m_kl.coef()},
                  {"completion_length", mask.sum(1).mean().item<double>()},
                  {"rollout_tokens_per_second", double(r.generatedTokens) / std::max(r.seconds, 1e-9)}};
    if (!m_rewards->usesRewardModel()) {
        double passes = 0;
        for (bool ok : passed)
            passes += ok ? 1 : 0;
        b->metrics["accuracy"] = passes / double(std::max<size_t>(1, passed.size()));
    }
    m_kl.update(klMean, int64_t(scores.size()));

    b->epoch = next.epoch;
    b->weight = double(scores.size());
    b->tokens = r.attentionMask.sum().item<int64_t>();
    const int64_t epochs = m_x.integer("ppo_epochs");
    b->epochEnded = next.epochEnded;
    if (epochs > 1) {
        m_reuse = b;
        m_reuseLeft = epochs - 1;
    }
    auto first = std::make_unique<PpoBatch>(*b);
    first->epochEnded = next.epochEnded && epochs == 1;
    return first;
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

train::EvalResult PpoObjective::evaluate(int64_t maxBatches)
{
    RolloutOptions sampling = trainingSampling(m_x, 4);
    sampling.seed = m_x.seed + 424242ULL;  // the same draws at every evaluation
    PolicyEval e = evaluatePolicy(m_x, *m_rewards, m_eval, sampling, maxBatches);
    train::EvalResult out;
    out.hasPerplexity = false;
    e.fill(out.loss, out.metrics, !m_rewards->usesRewardModel());
    return out;
}

nlohmann::json PpoObjective::dataPosition() const
{
    nlohmann::json p = m_batcher.position();
    p["rollouts"] = m_rolloutCount;
    p["kl_controller"] = m_kl.toJson();
    return p;
}

void PpoObjective::restoreDataPosition(const nlohmann::json& position)
{
    m_batcher.restore(position);
    m_rolloutCount = position.value("rollouts", int64_t(0));
    if (position.contains("kl_controller"))
        m_kl = KlController::fromJson(position["kl_controller"]);
    m_reuse.reset();  // a resumed run starts the next batch with fresh rollouts
    m_reuseLeft = 0;
}

nlohmann::json PpoObjective::dataSummary() const
{
    return {{"train_prompts", m_train.size()},
            {"eval_prompts", m_eval.size()},
            {"rewards", m_rewards->usesRewardModel() ? "reward model" : "verifiers"}};
}

} // namespace ft::align
