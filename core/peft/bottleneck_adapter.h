// Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2020): a small MLP added
// to a sublayer's output before the residual sum, y + up(act(down(y))), with `up`
// zero-initialised so the model is unchanged until training moves it. Houlsby places
// one after attention (around o_proj) and one after the MLP (around down_proj);
// Pfeiffer only after the MLP (in a mixture of experts, after each expert's down
// projection, so the router weighs it with its expert). PEFT has no such type: the format is ours, documented
// here. adapter_config.json: peft_type "BOTTLENECK_ADAPTER", adapter_size,
// adapter_placement, adapter_activation, target_modules. adapter_model.safetensors:
// per wrapped projection P, base_model.model.P.adapter_down.{weight (S, C), bias (S,)}
// and base_model.model.P.adapter_up.{weight (C, S), bias (C,)}.
// Not here: merging (impossible: the activation is not linear).
//
// Shape legend: C hidden size, S adapter (bottleneck) size.
#pragma once

#include "peft/adapted_linear.h"
#include "peft/layer_adapter.h"

namespace ft::peft {

class BottleneckLinearImpl : public AdaptedLinearImpl {
public:
    // down: Kaiming-uniform from `seed` (torch.nn.Linear's default); up: zeros.
    BottleneckLinearImpl(model::LinearLayer base, int64_t adapterSize, std::string activation, const at::TensorOptions& opts);
    at::Tensor forward(const at::Tensor& x) override;  // (..., in) -> (..., C)
    // "adapter_down.weight", "adapter_down.bias", "adapter_up.weight", "adapter_up.bias"
    std::vector<std::pair<std::string, at::Tensor>> adapterTensors() const override;

    std::shared_ptr<model::DenseLinearImpl> adapter_down;  // C -> S
    std::shared_ptr<model::DenseLinearImpl> adapter_up;    // S -> C

private:
    std::string m_activation;  // relu | gelu | silu
};

class BottleneckAdapter : public LayerAdapter {
public:
    BottleneckAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries);
    std::string peftType() const override { return "BOTTLENECK_ADAPTER"; }
    nlohmann::json configJson() const override;
};

std::unique_ptr<Adapter> applyBottleneckAdapter(model::CausalLM& model, const PeftSettings& settings,
                                                const std::string& name, const ApplyContext& context);

} // namespace ft::peft
