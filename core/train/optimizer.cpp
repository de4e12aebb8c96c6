#include "train/optimizer.h"

#include "util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <sstream>
#include <type_traits>
#include <unordered_map>

namespace ft::train {

bool usesWeightDecay(const std::string& name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return lower.find("bias") == std::string::npos && lower.find("norm") == std::string::npos;
}

std::unique_ptr<torch::optim::AdamW> makeAdamW(const NamedTensors& trainable, const AdamWSettings& s,
                                               const LearningRateScale& scale, std::vector<double>* groupScales)
{
    if (!(s.learningRate >= 0) || !(s.weightDecay >= 0) || !(s.eps >= 0))
        fail("AdamW needs learning_rate, weight_decay and eps >= 0");
    if (!(s.beta1 >= 0 && s.beta1 < 1) || !(s.beta2 >= 0 && s.beta2 < 1))
        fail("AdamW betas must lie in [0, 1) (got " + std::to_string(s.beta1) + ", " + std::to_string(s.beta2) + ")");
    // (decay, no decay) tensors per scale; scale 1 first, always.
    std::vector<double> scales{1.0};
    std::vector<std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>>> byScale(1);
    std::unordered_map<const void*, const std::string*> seen;
    for (const auto& [name, tensor] : trainable) {
        if (!tensor.defined())
            fail("trainable tensor '" + name + "' is undefined");
        if (!tensor.requires_grad())
            fail("trainable tensor '" + name + "' does not require grad; the technique did not unfreeze it");
        if (!tensor.is_leaf())
            fail("trainable tensor '" + name + "' is not a leaf tensor (it was computed from others); pass the parameter itself");
        auto [it, inserted] = seen.emplace(tensor.unsafeGetTensorImpl(), &name);
        if (!inserted)
            fail("trainable tensors '" + *it->second + "' and '" + name +
                 "' are the same tensor (tied weights); list it once or AdamW would update it twice");
        const double f = scale ? scale(name) : 1.0;
        if (!(f > 0) || !std::isfinite(f))
            fail("the learning-rate scale of '" + name + "' must be a finite number > 0, got " + std::to_string(f));
        size_t k = size_t(std::find(scales.begin(), scales.end(), f) - scales.begin());
        if (k == scales.size()) {
            scales.push_back(f);
            byScale.emplace_back();
        }
        (usesWeightDecay(name) ? byScale[k].first : byScale[k].second).push_back(tensor);
    }
    auto options = [&](double lrScale, double weightDecay) {
        auto o = std::make_unique<torch::optim::AdamWOptions>(s.learningRate * lrScale);
        o->betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(weightDecay);
        return o;
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (groupScales)
        groupScales->clear();
    for (size_t k = 0; k < scales.size(); ++k) {
        groups.emplace_back(byScale[k].first, options(scales[k], s.weightDecay));
        groups.emplace_back(byScale[k].second, options(scales[k], 0.0));
        if (groupScales)
            groupScales->insert(groupScales->end(), {scales[k], scales[k]});
    }
    torch::optim::AdamWOptions defaults(s.learningRate);
    defaults.betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(s.weightDecay);
    return std::make_unique<torch::optim::AdamW>(std::move(groups), defaults);
}

void setLearningRate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& groupScales)
{
    auto& groups = optimizer.param_groups();
    if (!groupScales.empty() && groupScales.size() != groups.size())
        fail("setLearningRate: " + std::to_string(groupScales.size()) + " group scales for " +
             std::to_string(groups.size()) + " optimizer groups");
    for (size_t g = 0; g < groups.size(); ++g)
        groups[g].options().set_lr(lr * (groupScales.empty() ? 1.0 : groupScales[g]));
}

namespace {
// A template so that only the branch matching this libtorch's key type is compiled.
template <class StateMap>
const torch::optim::OptimizerParamState* findState(const StateMap& state, const at::Tensor& param)
{
    using Key = typename StateMap::key_type;
    if constexpr (std::is_same_v<Key, std::string>) {
        // libtorch writes the key with c10::guts::to_string, i.e. operator<< of the pointer.
        std::ostringstream key;
        key << static_cast<const void*>(param.unsafeGetTensorImpl());
        auto it = state.find(key.str());
        return it == state.end() ? nullptr : it->second.get();
    } else {
        auto it = state.find(param.unsafeGetTensorImpl());
        return it == state.end() ? nullptr : it->second.get();
    }
}
} // namespace

const torch::optim::OptimizerParamState* optimizerStateOf(const torch::optim::Optimizer& optimizer,
                                                          const at::Tensor& param)
{
    return findState(optimizer.state(), param);
}

namespace {
// The key libtorch files a parameter's state under (see findState).
template <class StateMap>
typename StateMap::key_type stateKey(const at::Tensor& param)
{
    using Key = typename StateMap::key_type;
    if constexpr (std::is_same_v<Key, std::string>) {
        std::ostringstream key;
        key << static_cast<const void*>(param.unsafeGetTensorImpl());
        return key.str();
    } else {
        return param.unsafeGetTensorImpl();
    }
}
} // namespace

void setAdamWState(torch::optim::Optimizer& optimizer, const at::Tensor& param, int64_t step,
                   const at::Tensor& expAvg, const at::Tensor& expAvgSq)
{
    auto& state = optimizer.state();
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step);
    s->exp_avg(expAvg.detach().clone());
    s->exp_avg_sq(expAvgSq.detach().clone());
    state[stateKey<std::decay_t<decltype(state)>>(param)] = std::move(s);
}

void dropOptimizerState(torch::optim::Optimizer& optimizer, const at::Tensor& param)
{
    auto& state = optimizer.state();
    state.erase(stateKey<std::decay_t<decltype(state)>>(param));
}

int64_t optimizerStateBytes(const torch::optim::Optimizer& optimizer)
{
    int64_t n = 0;
    for (const auto& [_, s] : optimizer.state())
        if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(s.get()))
            n += int64_t(adamw->exp_avg().nbytes() + adamw->exp_avg_sq().nbytes()) +
                 (adamw->max_exp_avg_sq().defined() ? int64_t(adamw->max_exp_avg_sq().nbytes()) : 0);
    return n;
}

double clipGradNorm(const std::vector<at::Tensor>& params, double maxNorm)
{
    std::vector<at::Tensor> grads;
    bool anyDouble = false;
    for (const auto& p : params) {
        if (p.grad().defined()) {
            grads.push_back(p.grad());
            anyDouble = anyDouble || p.grad().scalar_type() == at::kDouble;
        }
    }
    if (grads.empty())
        return 0.0;
    const auto accumulate = anyDouble ? at::kDouble : at::kFloat;
    const auto device = grads.front().device();
    std::vector<at::Tensor> norms;
    norms.reserve(grads.size());
    for (const auto& g : grads) {
        at::Tensor gf = g.scalar_type() == accumulate ? g : g.to(accumulate);
        norms.push_back(gf.norm().to(device));  // 0-d
    }
    at::Tensor total = norms.size() == 1 ? norms.front() : at::stack(norms).norm();  // 0-d
    const double value = total.item<double>();
    if (!std::isfinite(value) || maxNorm <= 0)
        return value;
    // The same arithmetic as torch::nn::utils::clip_grad_norm_, so results agree to the bit.
    at::Tensor coef = at::clamp(maxNorm / (total + 1e-6), c10::nullopt, 1.0);
    if (coef.item<double>() < 1.0) {
        at::NoGradGuard noGrad;
        for (auto& g : grads)
            g.mul_(coef.to(g.scalar_type()));
    }
    return value;
}

double clipGradNorm(const NamedTensors& params, double maxNorm)
{
    std::vector<at::Tensor> tensors;
    tensors.reserve(params.size());
    for (const auto& [name, tensor] : params)
        tensors.push_back(tensor);
    return clipGradNorm(tensors, maxNorm);
}

} // namespace ft::train
