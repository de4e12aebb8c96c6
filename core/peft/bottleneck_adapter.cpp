#include "peft/bottleneck_adapter.h"
#include "peft/bottleneck_technique.h"

#include "model/model_config.h"
#include "peft/adapter_support.h"
#include "peft/targets.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::peft {

BottleneckLinearImpl::BottleneckLinearImpl(model::LinearLayer base, int64_t adapterSize, std::string activation,
                                           const at::TensorOptions& opts)
    : AdaptedLinearImpl(std::move(base)), m_activation(std::move(activation))
{
    const int64_t c = base_layer->outFeatures();
    model::SkipWeightInit skip;  // initialized by the caller from the adapter's seed
    adapter_down = register_module("adapter_down", std::make_shared<model::DenseLinearImpl>(c, adapterSize, true));
    adapter_up = register_module("adapter_up", std::make_shared<model::DenseLinearImpl>(adapterSize, c, true));
    adapter_down->to(opts.device(), opts.dtype().toScalarType());
    adapter_up->to(opts.device(), opts.dtype().toScalarType());
}

at::Tensor BottleneckLinearImpl::forward(const at::Tensor& x)
{
    at::Tensor y = base_layer->forward(x);  // (..., C)
    if (!contributes())
        return y;
    at::Tensor h = adapter_down->forward(y.to(adapter_down->weight.scalar_type()));  // (..., S)
    h = m_activation == "gelu" ? at::gelu(h) : m_activation == "silu" ? at::silu(h) : at::relu(h);
    return y + adapter_up->forward(h).to(y.scalar_type());
}

std::vector<std::pair<std::string, at::Tensor>> BottleneckLinearImpl::adapterTensors() const
{
    return {{"adapter_down.weight", adapter_down->weight},
            {"adapter_down.bias", adapter_down->bias},
            {"adapter_up.weight", adapter_up->weight},
            {"adapter_up.bias", adapter_up->bias}};
}

BottleneckAdapter::BottleneckAdapter(std::string name, PeftSettings settings, model::CausalLM model,
                                     std::vector<Entry> entries)
    : LayerAdapter(std::move(name), std::move(settings), std::move(model), std::move(entries))
{
}

nlohmann::json BottleneckAdapter::configJson() const
{
    nlohmann::json targets = nlohmann::json::array();
    for (const Entry& e : entries()) {
        const std::string& shortName = e.slot.shortName;
        if (std::find(targets.begin(), targets.end(), shortName) == targets.end())
            targets.push_back(shortName);
    }
    return {{"peft_type", peftType()},
            {"task_type", "CAUSAL_LM"},
            {"adapter_size", settings().adapterSize},
            {"adapter_placement", settings().adapterPlacement},
            {"adapter_activation", settings().adapterActivation},
            {"target_modules", targets}};
}

std::unique_ptr<Adapter> applyBottleneckAdapter(model::CausalLM& model, const PeftSettings& settings,
                                                const std::string& name, const ApplyContext& context)
{
    (void)context;
    if (settings.adapterSize <= 0)
        fail("bottleneck adapter: adapter_size must be positive, found " + std::to_string(settings.adapterSize));
    const std::string& placement = settings.adapterPlacement;
    if (placement != "houlsby" && placement != "pfeiffer")
        fail("bottleneck adapter: adapter_placement must be 'houlsby' or 'pfeiffer', found '" + placement + "'");
    const std::string& act = settings.adapterActivation;
    if (act != "relu" && act != "gelu" && act != "silu")
        fail("bottleneck adapter: adapter_activation must be relu, gelu or silu, found '" + act + "'");

    const std::vector<std::string> targets = bottleneckTargets(placement);
    const at::TensorOptions opts = adapterTensorOptions(model);
    SeededInit init(settings.seed);
    std::vector<LayerAdapter::Entry> entries;
    for (ProjectionSlot& slot : selectSlots(model, targets)) {
        auto wrapper = std::make_shared<BottleneckLinearImpl>(slot.get(), settings.adapterSize, act, opts);
        init.linearDefault(wrapper->adapter_down->weight, wrapper->adapter_down->bias);
        {
            torch::NoGradGuard noGrad;
            wrapper->adapter_up->weight.zero_();
            wrapper->adapter_up->bias.zero_();
        }
        slot.set(wrapper);
        entries.push_back({slot, wrapper});
    }
    return std::make_unique<BottleneckAdapter>(name, settings, model, std::move(entries));
}

} // namespace ft::peft
