// AdamW for fine-tuning: the trainable tensors split into a weight-decay group and a
// no-decay group by Hugging Face Trainer's rule, the learning rate set on every group,
// and gradient-norm clipping that reports a non-finite norm instead of throwing.
// Not the schedule (schedule.h) and not the loop that calls them.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/optim/adamw.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ft::train {

// The same type as ft::peft::NamedTensors: (name, tensor) in a stable order.
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct AdamWSettings {
    double learningRate = 2e-4;  // the peak; the schedule scales it per update
    double weightDecay = 0.0;    // Hugging Face Trainer's default
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
};

// Hugging Face Trainer (get_decay_parameter_names): no decay on biases and on
// normalization weights; decay on everything else, embeddings included. A
// parameter is exempt when its lower-cased name contains "bias" or "norm"
// (input_layernorm, post_attention_layernorm, model.norm, *.bias).
bool usesWeightDecay(const std::string& name);

// The factor on the learning rate of a trainable tensor, by name (LoRA+ trains its B
// matrices faster); an empty function means 1 for every tensor.
using LearningRateScale = std::function<double(const std::string& name)>;

// Group 0: tensors that decay (settings.weightDecay); group 1: those that do not.
// Both groups always exist, possibly empty, so a checkpoint's layout does not depend
// on which technique is trained. Tensors whose scale is not 1 go into further groups,
// a decay and a no-decay group per distinct scale, in the order the scales first
// appear. Within a group the caller's order is kept. `groupScales`, when given,
// receives each group's scale (what setLearningRate needs).
// Throws ft::Error naming the tensor when one does not require grad, is not a leaf,
// or appears twice (tied weights must be passed once), or a scale that is not > 0.
std::unique_ptr<torch::optim::AdamW> makeAdamW(const NamedTensors& trainable, const AdamWSettings& settings,
                                               const LearningRateScale& scale = {},
                                               std::vector<double>* groupScales = nullptr);

// Sets lr on every parameter group; with groupScales (from makeAdamW), lr times the
// group's scale.
void setLearningRate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& groupScales = {});

// The optimizer's per-parameter state (AdamW: step, exp_avg, exp_avg_sq), nullptr
// before the parameter's first update. Hides how libtorch keys its state map
// (a string of the TensorImpl address in 1.13, the address itself in later versions).
const torch::optim::OptimizerParamState* optimizerStateOf(const torch::optim::Optimizer& optimizer,
                                                          const at::Tensor& param);

// Optimizer-state sharding (ZeRO stage 1) moves AdamW states between ranks: sets a
// parameter's state (step, exp_avg, exp_avg_sq; copies), or removes it (no-op when none).
void setAdamWState(torch::optim::Optimizer& optimizer, const at::Tensor& param, int64_t step,
                   const at::Tensor& expAvg, const at::Tensor& expAvgSq);
void dropOptimizerState(torch::optim::Optimizer& optimizer, const at::Tensor& param);
// Bytes of the optimizer's per-parameter state tensors (AdamW: exp_avg, exp_avg_sq).
int64_t optimizerStateBytes(const torch::optim::Optimizer& optimizer);

// Total L2 norm of the gradients (each reduced in fp32, or fp64 for fp64 grads),
// measured before clipping; when it exceeds maxNorm (> 0) every gradient is scaled by
// maxNorm / (norm + 1e-6), libtorch's clip_grad_norm_ formula. Tensors without a
// gradient are skipped. A NaN or infinite norm is returned as is and the gradients
// are left untouched: the caller checks std::isfinite and skips the update.
double clipGradNorm(const std::vector<at::Tensor>& params, double maxNorm);
double clipGradNorm(const NamedTensors& params, double maxNorm);

} // namespace ft::train
