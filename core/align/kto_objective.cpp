#include "align/kto_objective.h"

#include "align/preference_loss.h"
#include "model/eval_mode.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::align {

namespace {

std::vector<const Response*> flatten(const std::vector<UnpairedExample>& data)
{
    std::vector<const Response*> out;
    for (const UnpairedExample& e : data) {
        out.push_back(&e.completion);
        out.push_back(&e.mismatched);
    }
    return out;
}

nlohmann::json ktoMetrics(const at::Tensor& rewards, const at::Tensor& desirable, double kl)
{
    auto meanWhere = [&](const at::Tensor& m) {
        const double n = m.sum().item<double>();
        return n > 0 ? (rewards.to(at::kDouble) * m.to(at::kDouble)).sum().item<double>() / n : 0.0;
    };
    const double chosen = meanWhere(desirable), rejected = meanWhere(desirable.logical_not());
    // How often a desirable completion's reward is above an undesirable one's, over
    // every such couple (the rank statistic, AUC); rewards within 1e-4 count half, so it
    // is 0.5 while the policy is its reference (every reward 0). KTO's own threshold,
    // the KL reference point, moves with the policy, and after a short run all rewards
    // can sit above it while the two kinds are already well apart.
    const at::Tensor r = rewards.to(at::kDouble), good = desirable.to(at::kBool);
    const at::Tensor up = r.masked_select(good), down = r.masked_select(good.logical_not());
    double ranking = 0.5;
    if (up.numel() > 0 && down.numel() > 0) {
        const at::Tensor diff = up.unsqueeze(1) - down.unsqueeze(0);  // (desirable, undesirable)
        const at::Tensor tie = diff.abs() <= 1e-4;
        ranking = (((diff > 0) & tie.logical_not()).to(at::kDouble) + 0.5 * tie.to(at::kDouble)).mean().item<double>();
    }
    return {{"rewards/chosen", chosen}, {"rewards/rejected", rejected}, {"rewards/margins", chosen - rejected},
            {"ranking_accuracy", ranking}, {"kl", kl}};
}

} // namespace

KtoObjective::KtoObjective(AlignContext context)
    : m_x(std::move(context)),
      m_train(buildUnpaired(m_x.trainRows, *m_x.format, *m_x.tokenizer, m_x.maxSeqLen, m_trainCounts)),
      m_eval(buildUnpaired(m_x.evalRows, *m_x.format, *m_x.tokenizer, m_x.maxSeqLen, m_evalCounts)),
      m_batcher(int64_t(m_train.size()), m_x.batchSize, m_x.seed, m_x.shard)
{
    if (m_x.batchSize < 2)
        fail("training.batch_size: KTO needs at least 2 completions per micro-batch to estimate its KL term, got " +
             std::to_string(m_x.batchSize));
    m_padId = std::max(0, m_x.tokenizer->padId());
    m_trainRef = referenceLogps(m_x.model, m_x.adapter, flatten(m_train), m_x.batchSize * 2, m_padId, m_x.device);
    m_evalRef = referenceLogps(m_x.model, m_x.adapter, flatten(m_eval), m_x.batchSize * 2, m_padId, m_x.device);
}

std::unique_ptr<train::ObjectiveBatch> KtoObjective::nextBatch()
{
    return nextIndexedBatch(m_batcher, [&](int64_t i) { return int64_t(m_train[size_t(i)].completion.ids.size() + m_train[size_t(i)].mismatched.ids.size()); });
}

KtoObjective::Scored KtoObjective::score(bool training, const std::vector<UnpairedExample>& data, const ReferenceValues& ref,
                                         const std::vector<int64_t>& indices)
{
    std::vector<const Response*> matched, mismatched;
    std::vector<int64_t> matchedRef, mismatchedRef;
    std::vector<uint8_t> desirable;
    for (int64_t i : indices) {
        matched.push_back(&data[size_t(i)].completion);
        mismatched.push_back(&data[size_t(i)].mismatched);
        matchedRef.push_back(2 * i);
        mismatchedRef.push_back(2 * i + 1);
        desirable.push_back(data[size_t(i)].desirable ? 1 : 0);
    }
    at::Tensor kl;
    {
        torch::NoGradGuard noGrad;
        ResponseLogps mm = responseLogps(m_x.model, collateResponses(mismatched, m_padId, m_x.device));
        kl = (mm.sums - gatherReference(ref, mismatchedRef, false, m_x.device)).mean();
        if (training && m_x.meanOverRanks)  // equal micro-batches: the mean of the ranks' means
            kl = at::full({}, m_x.meanOverRanks(kl.item<double>()), kl.options());
    }
    ResponseLogps lp = responseLogps(m_x.model, collateResponses(matched, m_padId, m_x.device));
    Scored s;
    s.desirable = at::tensor(std::vector<int64_t>(desirable.begin(), desirable.end()), at::kLong)
                      .to(at::kBool)
                      .to(m_x.device);
    KtoLossResult r = ktoLoss(lp.sums, gatherReference(ref, matchedRef, false, m_x.device), s.desirable, kl,
                              m_x.number("beta"), m_x.number("desirable_weight"), m_x.number("undesirable_weight"));
    s.losses = r.losses;
    s.rewards = r.rewards;
    s.kl = kl.clamp_min(0).item<double>();
    return s;
}

train::BatchLoss KtoObjective::loss(train::ObjectiveBatch& batch)
{
    Scored s = score(true, m_train, m_trainRef, static_cast<IndexedBatch&>(batch).indices);
    return {s.losses.sum(), ktoMetrics(s.rewards, s.desirable, s.kl)};
}

train::EvalResult KtoObjective::evaluate(int64_t maxBatches)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*m_x.model);
    std::vector<at::Tensor> losses, rewards, desirable;
    double klSum = 0;
    int64_t batches = 0;
    for (const auto& indices : evaluationChunks(m_eval.size(), m_x.batchSize, maxBatches)) {
        Scored s = score(false, m_eval, m_evalRef, indices);
        losses.push_back(s.losses);
        rewards.push_back(s.rewards);
        desirable.push_back(s.desirable);
        klSum += s.kl;
        ++batches;
    }
    train::EvalResult r;
    r.hasPerplexity = false;
    r.loss = at::cat(losses).to(at::kDouble).mean().item<double>();
    r.metrics = ktoMetrics(at::cat(rewards), at::cat(desirable), klSum / double(std::max<int64_t>(1, batches)));
    r.metrics["examples"] = at::cat(losses).size(0);
    return r;
}

nlohmann::json KtoObjective::dataSummary() const
{
    return {{"train", m_trainCounts.toJson()}, {"eval", m_evalCounts.toJson()},
            {"train_examples", m_train.size()}, {"eval_examples", m_eval.size()}};
}

} // namespace ft::align
