#include "align/preference_objective.h"

#include "align/preference_loss.h"
#include "model/eval_mode.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::align {

namespace {

std::vector<const Response*> flatten(const std::vector<PairExample>& pairs)
{
    std::vector<const Response*> out;
    for (const PairExample& p : pairs) {
        out.push_back(&p.chosen);
        out.push_back(&p.rejected);
    }
    return out;
}

// Ties count half: an untrained reward model (a zero head) or a policy equal to its
// reference (every implicit reward 0) is at chance, 0.5, not at 0 as TRL's
// rewards/accuracies. Rewards within 1e-4 (relative to their size, at least 1) are a
// tie: the policy and reference passes batch differently and round differently.
double tieAwareAccuracy(const at::Tensor& chosen, const at::Tensor& rejected)
{
    const at::Tensor c = chosen.to(at::kDouble), r = rejected.to(at::kDouble);
    const at::Tensor tie = (c - r).abs() <= 1e-4 * at::maximum(at::ones_like(c), at::maximum(c.abs(), r.abs()));
    const at::Tensor win = (c > r) & ~tie;
    return (win.to(at::kDouble) + 0.5 * tie.to(at::kDouble)).mean().item<double>();
}

} // namespace

nlohmann::json pairMetrics(const at::Tensor& chosenReward, const at::Tensor& rejectedReward,
                           const at::Tensor& chosenAvg, const at::Tensor& rejectedAvg)
{
    auto mean = [](const at::Tensor& t) { return t.to(at::kDouble).mean().item<double>(); };
    nlohmann::json m{{"rewards/chosen", mean(chosenReward)},
                     {"rewards/rejected", mean(rejectedReward)},
                     {"rewards/margins", mean(chosenReward - rejectedReward)},
                     {"rewards/accuracies", mean((chosenReward > rejectedReward).to(at::kDouble))},
                     {"preference_accuracy", tieAwareAccuracy(chosenReward, rejectedReward)}};
    if (chosenAvg.defined())
        m["logp_accuracy"] = mean((chosenAvg > rejectedAvg).to(at::kDouble));
    return m;
}

PreferenceObjective::PreferenceObjective(std::string loss, AlignContext context)
    : m_loss(std::move(loss)), m_x(std::move(context)),
      m_train(buildPairs(m_x.trainRows, *m_x.format, *m_x.tokenizer, m_x.maxSeqLen, m_trainCounts)),
      m_eval(buildPairs(m_x.evalRows, *m_x.format, *m_x.tokenizer, m_x.maxSeqLen, m_evalCounts)),
      m_batcher(int64_t(m_train.size()), m_x.batchSize, m_x.seed, m_x.shard)
{
    m_padId = std::max(0, m_x.tokenizer->padId());
    if (usesReference()) {
        m_trainRef = referenceLogps(m_x.model, m_x.adapter, flatten(m_train), m_x.batchSize * 2, m_padId, m_x.device);
        m_evalRef = referenceLogps(m_x.model, m_x.adapter, flatten(m_eval), m_x.batchSize * 2, m_padId, m_x.device);
    }
}

std::unique_ptr<train::ObjectiveBatch> PreferenceObjective::nextBatch()
{
    return nextIndexedBatch(m_batcher, [&](int64_t i) { return int64_t(m_train[size_t(i)].chosen.ids.size() + m_train[size_t(i)].rejected.ids.size()); });
}

PreferenceObjective::Scored PreferenceObjective::score(const std::vector<PairExample>& pairs,
                                                       const ReferenceValues& ref,
                                                       const std::vector<int64_t>& indices)
{
    std::vector<const Response*> responses;
    std::vector<int64_t> chosenRef, rejectedRef;
    for (int64_t i : indices)
        responses.push_back(&pairs[size_t(i)].chosen);
    for (int64_t i : indices)
        responses.push_back(&pairs[size_t(i)].rejected);
    for (int64_t i : indices) {
        chosenRef.push_back(2 * i);
        rejectedRef.push_back(2 * i + 1);
    }
    const int64_t p = int64_t(indices.size());
    ResponseLogps lp = responseLogps(m_x.model, collateResponses(responses, m_padId, m_x.device));
    at::Tensor avg = lp.averages();
    at::Tensor sumC = lp.sums.narrow(0, 0, p), sumR = lp.sums.narrow(0, p, p);
    at::Tensor avgC = avg.narrow(0, 0, p), avgR = avg.narrow(0, p, p);
    const double beta = m_x.number("beta");
    Scored s;
    if (m_loss == "dpo" || m_loss == "ipo") {
        const bool average = m_loss == "ipo";
        at::Tensor refC = gatherReference(ref, chosenRef, average, m_x.device);
        at::Tensor refR = gatherReference(ref, rejectedRef, average, m_x.device);
        PreferenceLossResult r = average ? ipoLoss(avgC, avgR, refC, refR, beta)
                                         : dpoLoss(sumC, sumR, refC, refR, beta, m_x.number("label_smoothing"));
        s.losses = r.losses;
        s.chosenReward = r.chosenRewards;
        s.rejectedReward = r.rejectedRewards;
    } else if (m_loss == "simpo") {
        PreferenceLossResult r = simpoLoss(avgC, avgR, beta, m_x.number("gamma"), m_x.number("label_smoothing"));
        s.losses = r.losses;
        s.chosenReward = r.chosenRewards;
        s.rejectedReward = r.rejectedRewards;
    } else {  // orpo: -mean log p(chosen) + lambda * odds-ratio loss
        OddsRatioResult r = orpoOddsRatioLoss(avgC, avgR);
        s.losses = -avgC + m_x.number("lambda") * r.losses;
        s.chosenReward = (beta * avgC).detach();
        s.rejectedReward = (beta * avgR).detach();
    }
    s.chosenAvg = avgC.detach();
    s.rejectedAvg = avgR.detach();
    return s;
}

train::BatchLoss PreferenceObjective::loss(train::ObjectiveBatch& batch)
{
    const auto& b = static_cast<IndexedBatch&>(batch);
    Scored s = score(m_train, m_trainRef, b.indices);
    return {s.losses.sum(), pairMetrics(s.chosenReward, s.rejectedReward, s.chosenAvg, s.rejectedAvg)};
}

train::EvalResult PreferenceObjective::evaluate(int64_t maxBatches)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*m_x.model);
    std::vector<at::Tensor> losses, cr, rr, ca, ra;
    for (const auto& indices : evaluationChunks(m_eval.size(), m_x.batchSize, maxBatches)) {
        Scored s = score(m_eval, m_evalRef, indices);
        losses.push_back(s.losses);
        cr.push_back(s.chosenReward);
        rr.push_back(s.rejectedReward);
        ca.push_back(s.chosenAvg);
        ra.push_back(s.rejectedAvg);
    }
    train::EvalResult r;
    r.hasPerplexity = false;
    r.loss = at::cat(losses).to(at::kDouble).mean().item<double>();
    r.metrics = pairMetrics(at::cat(cr), at::cat(rr), at::cat(ca), at::cat(ra));
    r.metrics["pairs"] = at::cat(losses).size(0);
    return r;
}

nlohmann::json PreferenceObjective::dataSummary() const
{
    return {{"train", m_trainCounts.toJson()}, {"eval", m_evalCounts.toJson()},
            {"train_pairs", m_train.size()}, {"eval_pairs", m_eval.size()}};
}

} // namespace ft::align
