#include "train/pretrain.h"

#include "model/eval_mode.h"
#include "train/lm_batch.h"
#include "train/lm_loss.h"
#include "train/schedule.h"
#include "util/error.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>

namespace ft::train {

namespace {

// Weight decay on matrices only; norms and biases stay undecayed.
std::vector<torch::optim::OptimizerParamGroup> parameterGroups(model::CausalLM& model, double weightDecay, double lr)
{
    std::vector<at::Tensor> decay, noDecay;
    for (auto& p : model->named_parameters()) {
        if (!p.value().requires_grad())
            continue;
        (p.value().dim() >= 2 ? decay : noDecay).push_back(p.value());
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    auto withDecay = std::make_unique<torch::optim::AdamWOptions>(lr);
    withDecay->weight_decay(weightDecay).betas({0.9, 0.95});
    groups.emplace_back(decay, std::move(withDecay));
    auto without = std::make_unique<torch::optim::AdamWOptions>(lr);
    without->weight_decay(0.0).betas({0.9, 0.95});
    groups.emplace_back(noDecay, std::move(without));
    return groups;
}

} // namespace

double evaluateLoss(model::CausalLM& model, const std::vector<int64_t>& stream, int64_t seqLen, int64_t batchSize,
                    int64_t maxBatches)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*model);
    const auto device = model->parameters().front().device();
    double total = 0;
    int64_t count = 0;
    for (const at::Tensor& batch : evaluationBatches(stream, seqLen, batchSize, maxBatches)) {
        at::Tensor ids = batch.to(device);
        const double loss = causalLmLoss(model->forward(ids), ids).item<double>();
        total += loss * batch.size(0);
        count += batch.size(0);
    }
    if (count == 0)
        fail("no evaluation batches: the held-out text is empty or maxBatches is 0");
    return total / double(count);
}

PretrainResult pretrain(model::CausalLM& model, const std::vector<int64_t>& trainStream,
                        const std::vector<int64_t>& heldoutStream, const PretrainOptions& o,
                        const PretrainCallback& onProgress)
{
    if (o.steps <= 0 || o.batchSize <= 0 || o.seqLen < 2)
        fail("pretraining needs steps > 0, batch size > 0 and sequence length >= 2");
    if (o.seqLen > model->config().maxPositionEmbeddings)
        fail("sequence length " + std::to_string(o.seqLen) + " exceeds the model's max_position_embeddings (" +
             std::to_string(model->config().maxPositionEmbeddings) + ")");
    PretrainResult result;
    result.initialHeldoutLoss = evaluateLoss(model, heldoutStream, o.seqLen, o.evalBatchSize, o.evalMaxBatches);
    const auto device = model->parameters().front().device();
    WindowSampler sampler(trainStream, o.seqLen, o.seed);
    torch::optim::AdamW optimizer(parameterGroups(model, o.weightDecay, o.learningRate));
    std::vector<at::Tensor> params;
    for (auto& p : model->parameters())
        if (p.requires_grad())
            params.push_back(p);

    model->train();
    const auto start = std::chrono::steady_clock::now();
    double smoothed = 0;
    for (int64_t step = 0; step < o.steps; ++step) {
        const double lr = cosineWithWarmup(step, o.warmupSteps, o.steps, o.learningRate, o.minLrRatio);
        for (auto& group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        at::Tensor ids = sampler.next(o.batchSize).to(device);  // (B, T)
        at::Tensor loss = causalLmLoss(model->forward(ids), ids);
        optimizer.zero_grad();
        loss.backward();
        const double gradNorm = torch::nn::utils::clip_grad_norm_(params, o.clipNorm);
        optimizer.step();

        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue))
            fail("pretraining diverged at step " + std::to_string(step + 1) + " (loss is " + std::to_string(lossValue) +
                 "); lower the learning rate");
        smoothed = step == 0 ? lossValue : 0.9 * smoothed + 0.1 * lossValue;
        result.tokensSeen += o.batchSize * o.seqLen;
        if (onProgress) {
            PretrainProgress p;
            p.step = step + 1;
            p.steps = o.steps;
            p.loss = smoothed;
            p.learningRate = lr;
            p.gradNorm = gradNorm;
            p.elapsedSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            p.tokensPerSecond = result.tokensSeen / std::max(1e-9, p.elapsedSeconds);
            p.etaSeconds = p.elapsedSeconds / p.step * (o.steps - p.step);
            onProgress(p);
        }
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.steps = o.steps;
    result.finalTrainLoss = smoothed;
    result.finalHeldoutLoss = evaluateLoss(model, heldoutStream, o.seqLen, o.evalBatchSize, o.evalMaxBatches);
    model->eval();
    return result;
}

} // namespace ft::train
