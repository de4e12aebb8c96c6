#include "train/sft_objective.h"

#include "model/eval_mode.h"
#include "train/lm_loss.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <cmath>

namespace ft::train {

namespace {
struct SftMicroBatch : ObjectiveBatch {
    SftBatch data;
};

SftBatch toDevice(SftBatch b, c10::Device device)
{
    b.ids = b.ids.to(device);
    b.labels = b.labels.to(device);
    b.attentionMask = b.attentionMask.to(device);
    if (b.segmentIds.defined())
        b.segmentIds = b.segmentIds.to(device);
    return b;
}
} // namespace

at::Tensor summedLmLoss(const at::Tensor& logits, const at::Tensor& labels)
{
    const int64_t t = logits.size(1), v = logits.size(2);
    at::Tensor shifted = logits.narrow(1, 0, t - 1).reshape({-1, v}).to(at::kFloat);  // (B*(T-1), V)
    at::Tensor targets = labels.narrow(1, 1, t - 1).reshape({-1});                       // (B*(T-1),)
    return at::cross_entropy_loss(shifted, targets, {}, at::Reduction::Sum, kIgnoreIndex);
}

SftObjective::SftObjective(model::CausalLM model, SftObjectiveSetup setup)
    : m_model(std::move(model)), m_setup(std::move(setup)), m_batcher(m_setup.train, m_setup.batcher)
{
}

std::unique_ptr<ObjectiveBatch> SftObjective::nextBatch()
{
    auto b = std::make_unique<SftMicroBatch>();
    b->data = m_batcher.nextBatch();
    b->weight = double(b->data.tokens);
    b->tokens = b->data.attentionMask.sum().item<int64_t>();
    b->epoch = b->data.epoch;
    b->epochEnded = b->data.epochEnded;
    return b;
}

BatchLoss SftObjective::loss(ObjectiveBatch& batch)
{
    SftBatch b = toDevice(static_cast<SftMicroBatch&>(batch).data, m_setup.device);
    at::Tensor hidden = m_model->hidden(b.ids, b.segmentIds.defined() ? at::Tensor() : b.attentionMask, nullptr,
                                        b.segmentIds);
    return {summedLmLoss(m_model->logitsFromHidden(hidden), b.labels), nlohmann::json::object()};
}

EvalResult SftObjective::evaluate(int64_t maxBatches)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*m_model);
    double sum = 0, weight = 0;
    int64_t n = 0;
    for (SftBatch& raw : evaluationBatches(m_setup.eval, m_setup.evalBatchSize)) {
        if (maxBatches > 0 && n++ >= maxBatches)
            break;
        SftBatch b = toDevice(raw, m_setup.device);
        sum += summedLmLoss(m_model->forward(b.ids, b.attentionMask), b.labels).item<double>();
        weight += double(b.tokens);
    }
    EvalResult r;
    r.loss = weight > 0 ? sum / weight : 0.0;
    r.metrics["perplexity"] = std::exp(std::min(r.loss, 50.0));
    r.metrics["tokens"] = weight;
    return r;
}

nlohmann::json SftObjective::dataPosition() const
{
    return dist::positionJson(m_batcher.position(), m_batcher.rowsConsumed(), m_setup.batcher.shard);
}

void SftObjective::restoreDataPosition(const nlohmann::json& position)
{
    m_batcher.restore(dist::readPosition(position, m_setup.batcher.shard));
}

nlohmann::json SftObjective::dataSummary() const
{
    auto summary = [](const SftDataset& d) {
        return nlohmann::json{{"rows", d.rows},           {"examples", d.examples.size()}, {"truncated", d.truncated},
                              {"dropped", d.dropped},     {"tokens", d.tokens},            {"trainable_tokens", d.trainableTokens}};
    };
    return {{"train", summary(m_setup.train)}, {"eval", summary(m_setup.eval)}, {"packing", m_setup.batcher.packing}};
}

} // namespace ft::train
