#include "align/reward_objective.h"

#include "align/preference_loss.h"
#include "align/preference_objective.h"
#include "align/reward_model.h"
#include "model/eval_mode.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::align {

RewardObjective::RewardObjective(AlignContext context)
    : m_x(std::move(context)),
      m_train(buildPairs(m_x.trainRows, *m_x.format, *m_x.tokenizer, m_x.maxSeqLen, m_trainCounts)),
      m_eval(buildPairs(m_x.evalRows, *m_x.format, *m_x.tokenizer, m_x.maxSeqLen, m_evalCounts)),
      m_batcher(int64_t(m_train.size()), m_x.batchSize, m_x.seed, m_x.shard)
{
    m_padId = std::max(0, m_x.tokenizer->padId());
    m_head = at::zeros({1, m_x.model->config().hiddenSize}, at::TensorOptions().dtype(at::kFloat).device(m_x.device))
                 .set_requires_grad(true);
}

std::unique_ptr<train::ObjectiveBatch> RewardObjective::nextBatch()
{
    return nextIndexedBatch(m_batcher, [&](int64_t i) { return int64_t(m_train[size_t(i)].chosen.ids.size() + m_train[size_t(i)].rejected.ids.size()); });
}

RewardObjective::Scored RewardObjective::score(const std::vector<PairExample>& pairs,
                                               const std::vector<int64_t>& indices)
{
    std::vector<const Response*> responses;
    std::vector<float> margins;
    for (int64_t i : indices)
        responses.push_back(&pairs[size_t(i)].chosen);
    for (int64_t i : indices) {
        responses.push_back(&pairs[size_t(i)].rejected);
        margins.push_back(float(pairs[size_t(i)].margin * m_x.number("margin_scale")));
    }
    const int64_t p = int64_t(indices.size());
    at::Tensor s = rewardScores(m_x.model, m_head, collateResponses(responses, m_padId, m_x.device));  // (2P,)
    Scored out;
    out.chosen = s.narrow(0, 0, p);
    out.rejected = s.narrow(0, p, p);
    out.losses = bradleyTerryLoss(out.chosen, out.rejected, at::tensor(margins, at::kFloat).to(m_x.device));
    return out;
}

train::BatchLoss RewardObjective::loss(train::ObjectiveBatch& batch)
{
    Scored s = score(m_train, static_cast<IndexedBatch&>(batch).indices);
    nlohmann::json m = pairMetrics(s.chosen.detach(), s.rejected.detach(), {}, {});
    return {s.losses.sum(), {{"accuracy", m["preference_accuracy"]}, {"margin", m["rewards/margins"]}}};
}

train::EvalResult RewardObjective::evaluate(int64_t maxBatches)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*m_x.model);
    std::vector<at::Tensor> losses, chosen, rejected;
    for (const auto& indices : evaluationChunks(m_eval.size(), m_x.batchSize, maxBatches)) {
        Scored s = score(m_eval, indices);
        losses.push_back(s.losses);
        chosen.push_back(s.chosen);
        rejected.push_back(s.rejected);
    }
    train::EvalResult r;
    r.hasPerplexity = false;
    r.loss = at::cat(losses).to(at::kDouble).mean().item<double>();
    nlohmann::json m = pairMetrics(at::cat(chosen), at::cat(rejected), {}, {});
    r.metrics = {{"accuracy", m["preference_accuracy"]}, {"margin", m["rewards/margins"]},
                 {"score/chosen", m["rewards/chosen"]}, {"score/rejected", m["rewards/rejected"]},
                 {"pairs", at::cat(losses).size(0)}};
    return r;
}

nlohmann::json RewardObjective::dataSummary() const
{
    return {{"train", m_trainCounts.toJson()}, {"eval", m_evalCounts.toJson()},
            {"train_pairs", m_train.size()}, {"eval_pairs", m_eval.size()}};
}

void RewardObjective::writeOutputs(const std::string& outputFolder)
{
    saveRewardHead(outputFolder, m_head, m_x.format->name());
}

} // namespace ft::align
