#include "peft/bottleneck_adapter.h"

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
    : m_activation(std::move(activation))
{
    const int64_t c = base->outFeatures();
    base_layer = register_module("base_layer", std::move(base));
    model::SkipWeightInit skip;  // initialized by the caller from the adapter's seed
    adapter_down = register_module("adapter_down", std::make_shared<model::DenseLinearImpl>(c, adapterSize, true));
    adapter_up = register_module("adapter_up", std::make_shared<model::DenseLinearImpl>(adapterSize, c, true));
    adapter_down->to(opts.device(), opts.dtype().toScalarType());
    adapter_up->to(opts.device(), opts.dtype().toScalarType());
}

at::Tensor BottleneckLinearImpl::forward(const at::Tensor& x)
{
    at::Tensor y = base_layer->forward(x);  // (..., C)
    if (!enabled)
        return y;
    at::Tensor h = adapter_down->forward(y.to(adapter_down->weight.scalar_type()));  // (..., S)
    h = m_activation == "gelu" ? at::gelu(h) : m_activation == "silu" ? at::silu(h) : at::relu(h);
    return y + adapter_up->forward(h).to(y.scalar_type());
}

BottleneckAdapter::BottleneckAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Site> sites)
    : Adapter(std::move(name), std::move(settings)), m_model(std::move(model)), m_sites(std::move(sites))
{
}

NamedTensors BottleneckAdapter::trainableParameters()
{
    const auto paths = modulePaths(*m_model);
    NamedTensors out;
    for (const Site& site : m_sites) {
        auto it = paths.find(site.wrapper.get());
        const std::string path = it != paths.end() ? it->second : site.path;
        const std::pair<const char*, model::DenseLinearImpl*> children[] = {{"adapter_down", site.wrapper->adapter_down.get()},
                                                                            {"adapter_up", site.wrapper->adapter_up.get()}};
        for (const auto& [child, layer] : children) {
            out.emplace_back(path + "." + child + ".weight", layer->weight);
            out.emplace_back(path + "." + child + ".bias", layer->bias);
        }
    }
    return out;
}

NamedTensors BottleneckAdapter::stateDict()
{
    NamedTensors out;
    for (const Site& site : m_sites) {
        out.emplace_back(peftKey(site.path, "adapter_down.weight"), site.wrapper->adapter_down->weight.detach());
        out.emplace_back(peftKey(site.path, "adapter_down.bias"), site.wrapper->adapter_down->bias.detach());
        out.emplace_back(peftKey(site.path, "adapter_up.weight"), site.wrapper->adapter_up->weight.detach());
        out.emplace_back(peftKey(site.path, "adapter_up.bias"), site.wrapper->adapter_up->bias.detach());
    }
    return out;
}

void BottleneckAdapter::loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source)
{
    TensorLoadPlan plan(tensors, source);
    for (auto& [key, dest] : stateDict())
        plan.expect(key, dest);
    plan.apply();
}

nlohmann::json BottleneckAdapter::configJson() const
{
    nlohmann::json targets = nlohmann::json::array();
    for (const Site& site : m_sites) {
        const std::string shortName = site.path.substr(site.path.rfind('.') + 1);
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

void BottleneckAdapter::setEnabled(bool on)
{
    m_enabled = on;
    for (Site& site : m_sites)
        site.wrapper->enabled = on;
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

    const std::vector<std::string> targets =
        placement == "houlsby" ? std::vector<std::string>{"o_proj", "down_proj"} : std::vector<std::string>{"down_proj"};
    const at::TensorOptions opts = adapterTensorOptions(model);
    SeededInit init(settings.seed);
    std::vector<BottleneckAdapter::Site> sites;
    for (ProjectionSlot& slot : selectSlots(model, targets)) {
        auto wrapper = std::make_shared<BottleneckLinearImpl>(slot.get(), settings.adapterSize, act, opts);
        init.linearDefault(wrapper->adapter_down->weight, wrapper->adapter_down->bias);
        {
            torch::NoGradGuard noGrad;
            wrapper->adapter_up->weight.zero_();
            wrapper->adapter_up->bias.zero_();
        }
        slot.set(wrapper);
        sites.push_back({slot.path, wrapper});
    }
    return std::make_unique<BottleneckAdapter>(name, settings, model, std::move(sites));
}

// ---- descriptor ----------------------------------------------------------------------

namespace {

// Per site: down (C -> S) and up (S -> C), each with a bias.
TechniqueEstimate estimateBottleneck(const model::ModelConfig& c, const PeftSettings& s)
{
    const int64_t sitesPerLayer = s.adapterPlacement == "pfeiffer" ? 1 : 2;
    const int64_t C = c.hiddenSize, S = s.adapterSize;
    return {.added = c.numHiddenLayers * sitesPerLayer * (C * S + S + S * C + C)};
}

} // namespace

const Technique& bottleneckAdapterTechnique()
{
    static const Technique t{.name = "adapter",
                             .summary = "Bottleneck adapters (Houlsby / Pfeiffer) after the transformer sublayers",
                             .peftType = "BOTTLENECK_ADAPTER",
                             .settings = {"adapter_size", "adapter_placement", "adapter_activation"},
                             .apply = applyBottleneckAdapter,
                             .estimate = estimateBottleneck};
    return t;
}

} // namespace ft::peft
