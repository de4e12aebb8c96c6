#include "peft/bitfit.h"

#include "peft/adapter_support.h"
#include "peft/targets.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::peft {

namespace {

// The dense layer that computes `layer`: itself, or the one under a chain of wrappers
// that keep their base as child "base_layer" (LoRA, BitFit, bottleneck ...). nullptr
// for other bases (a 4-bit one).
std::shared_ptr<model::DenseLinearImpl> denseUnder(const model::LinearLayer& layer)
{
    std::shared_ptr<torch::nn::Module> m = layer;
    while (m) {
        if (auto dense = std::dynamic_pointer_cast<model::DenseLinearImpl>(m))
            return dense;
        auto children = m->named_children();
        m = children.contains("base_layer") ? children["base_layer"] : nullptr;
    }
    return nullptr;
}

// Undoes DenseLinearImpl::ensureBias: Module keeps its parameter table protected and
// offers no unregister_parameter, so reach it through a derived class.
struct ParameterTable : torch::nn::Module {
    static void erase(torch::nn::Module& m, const std::string& name) { (m.*(&ParameterTable::parameters_)).erase(name); }
};

enum class BiasGroup { Qkv, Out, Mlp, None };

BiasGroup groupOf(const std::string& shortName)
{
    if (shortName == "q_proj" || shortName == "k_proj" || shortName == "v_proj" || shortName == "qkv_proj")
        return BiasGroup::Qkv;
    if (shortName == "o_proj")
        return BiasGroup::Out;
    if (shortName == "gate_proj" || shortName == "up_proj" || shortName == "gate_up_proj" || shortName == "down_proj")
        return BiasGroup::Mlp;
    return BiasGroup::None;
}

} // namespace

// ---- The wrapper -----------------------------------------------------------------

BitFitLinearImpl::BitFitLinearImpl(model::LinearLayer base, const at::TensorOptions& opts)
{
    const int64_t out = base->outFeatures();
    at::Tensor own;
    if (auto dense = denseUnder(base))
        own = dense->bias;
    else if (auto* p = base->named_parameters(/*recurse=*/false).find("bias"))
        own = *p;
    base_layer = register_module("base_layer", std::move(base));
    m_baseBias = own.defined() ? own.detach().to(opts).clone() : at::zeros({out}, opts);
    bias = register_parameter("bias", m_baseBias.clone());
}

at::Tensor BitFitLinearImpl::forward(const at::Tensor& x)
{
    if (!enabled || merged)
        return base_layer->forward(x);
    if (auto* dense = base_layer->as<model::DenseLinearImpl>())
        return at::linear(x, dense->weight) + bias.to(x.scalar_type());  // the base without its own bias
    // A base we cannot run without its bias: take its bias back out.
    return base_layer->forward(x) + (bias - m_baseBias.to(bias.device())).to(x.scalar_type());
}

// ---- The adapter -----------------------------------------------------------------

BitFitAdapter::BitFitAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Site> sites)
    : Adapter(std::move(name), std::move(settings)), m_model(std::move(model)), m_sites(std::move(sites))
{
}

void BitFitAdapter::requireUsable() const
{
    if (m_unloaded)
        fail("BitFit adapter '" + name() + "' was merged and unloaded into the base model; it can no longer be used");
}

NamedTensors BitFitAdapter::trainableParameters()
{
    const auto paths = modulePaths(*m_model);
    NamedTensors out;
    for (const Site& site : m_sites) {
        auto it = paths.find(site.wrapper.get());
        out.emplace_back((it != paths.end() ? it->second : site.slot.path) + ".bias", site.wrapper->bias);
    }
    return out;
}

NamedTensors BitFitAdapter::stateDict()
{
    NamedTensors out;
    for (const Site& site : m_sites)
        out.emplace_back(peftKey(site.slot.path, "bias"), site.wrapper->bias.detach());
    return out;
}

void BitFitAdapter::loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source)
{
    requireUsable();
    if (m_merged)
        fail("BitFit adapter '" + name() + "' is merged into the base; unmerge it before loading " + source);
    TensorLoadPlan plan(tensors, source);
    for (auto& [key, dest] : stateDict())
        plan.expect(key, dest);
    plan.apply();
}

nlohmann::json BitFitAdapter::configJson() const
{
    const auto& targets = settings().targetModules;
    return {{"peft_type", peftType()},
            {"task_type", "CAUSAL_LM"},
            {"target_modules", targets.empty() ? std::vector<std::string>{"all-linear"} : targets}};
}

void BitFitAdapter::setEnabled(bool on)
{
    requireUsable();
    if (!on && m_merged)
        fail("BitFit adapter '" + name() + "' is merged into the base biases; unmerge it before disabling it");
    m_enabled = on;
    for (Site& site : m_sites)
        site.wrapper->enabled = on;
}

bool BitFitAdapter::canMerge() const
{
    for (const Site& site : m_sites)
        if (!denseUnder(site.wrapper->base_layer))
            return false;
    return !m_unloaded;
}

void BitFitAdapter::merge()
{
    requireUsable();
    if (m_merged)
        return;
    // Every check before the first write, so a failed merge changes nothing.
    for (const Site& site : m_sites) {
        if (!denseUnder(site.wrapper->base_layer))
            fail("BitFit cannot merge into " + site.slot.path + ": its base is not a dense layer (quantized?)");
        if (!at::isfinite(site.wrapper->bias).all().item<bool>())
            fail("BitFit cannot merge: the trained bias of " + site.slot.path + " holds NaN or infinity");
    }
    model::ModelConfig& config = m_model->mutableConfig();
    m_savedAttentionBias = config.attentionBias;
    m_savedAttentionOutBias = config.attentionOutBias;
    m_savedMlpBias = config.mlpBias;
    bool qkv = false, out = false, mlp = false;
    for (const Site& site : m_sites) {
        if (denseUnder(site.wrapper->base_layer)->bias.defined())
            continue;
        const BiasGroup g = groupOf(site.slot.shortName);
        qkv = qkv || g == BiasGroup::Qkv;
        out = out || g == BiasGroup::Out;
        mlp = mlp || g == BiasGroup::Mlp;
    }
    // Llama's attention_bias covers q, k, v and o together; Qwen2 always has q/k/v biases.
    if (!model::archTraits(config.arch).qkvBias && (qkv || out))
        qkv = out = true;
    config.attentionBias = config.attentionBias || qkv;
    config.attentionOutBias = config.attentionOutBias || out;
    config.mlpBias = config.mlpBias || mlp;

    // A declared group has a bias in every layer: zeros where BitFit did not train one.
    auto addBias = [this](const std::shared_ptr<model::DenseLinearImpl>& dense) {
        if (dense && !dense->bias.defined()) {
            dense->ensureBias();
            m_addedBiases.push_back(dense);
        }
    };
    for (const ProjectionSlot& slot : projectionSlots(m_model)) {
        const BiasGroup g = groupOf(slot.shortName);
        if ((g == BiasGroup::Qkv && qkv) || (g == BiasGroup::Out && out) || (g == BiasGroup::Mlp && mlp))
            addBias(denseUnder(slot.get()));
    }
    torch::NoGradGuard noGrad;
    for (Site& site : m_sites) {
        auto dense = denseUnder(site.wrapper->base_layer);
        if (dense->bias.defined() &&
            std::find(m_addedBiases.begin(), m_addedBiases.end(), dense) == m_addedBiases.end())
            m_savedBiases.emplace_back(dense, dense->bias.detach().clone());
        addBias(dense);  // lm_head: no config flag, but the merged layer still needs a bias
        dense->bias.copy_(site.wrapper->bias.detach());
        site.wrapper->merged = true;
    }
    m_merged = true;
}

void BitFitAdapter::unmerge()
{
    requireUsable();
    if (!m_merged)
        return;
    {
        torch::NoGradGuard noGrad;
        for (auto& [dense, original] : m_savedBiases)
            dense->bias.copy_(original);
    }
    for (auto& dense : m_addedBiases) {
        ParameterTable::erase(*dense, "bias");
        dense->bias = at::Tensor();
    }
    model::ModelConfig& config = m_model->mutableConfig();
    config.attentionBias = m_savedAttentionBias;
    config.attentionOutBias = m_savedAttentionOutBias;
    config.mlpBias = m_savedMlpBias;
    m_savedBiases.clear();
    m_addedBiases.clear();
    for (Site& site : m_sites)
        site.wrapper->merged = false;
    m_merged = false;
}

void BitFitAdapter::mergeAndUnload(c10::ScalarType dtype)
{
    (void)dtype;  // dense bases keep their dtype; the merged bias takes the weight's
    requireUsable();
    const model::ModelConfig& config = m_model->config();
    const bool qwenLike = model::archTraits(config.arch).qkvBias;
    for (const Site& site : m_sites) {
        const BiasGroup g = groupOf(site.slot.shortName);
        auto dense = denseUnder(site.wrapper->base_layer);
        const bool addedByMerge = std::find(m_addedBiases.begin(), m_addedBiases.end(), dense) != m_addedBiases.end();
        const bool baseHasBias = dense && dense->bias.defined() && !addedByMerge;
        // Mistral's and Phi-3's config.json have no bias flags (their modeling files hard-code
        // none), and no family's experts take mlp_bias.
        const bool declarable = g != BiasGroup::None && config.arch != model::Arch::Mistral &&
                                config.arch != model::Arch::Phi3 && !(qwenLike && g != BiasGroup::Qkv) &&
                                !(config.hasExperts() && g == BiasGroup::Mlp);
        if (!baseHasBias && !declarable)
            fail("BitFit cannot be merged into a plain " + std::string(model::archClassName(config.arch)) +
                 " model: its config.json has no way to declare a bias on " + site.slot.path +
                 "; save it as an adapter instead, or target only projections the architecture gives a bias");
        if (site.slot.get().get() != site.wrapper.get())
            fail("BitFit cannot unload " + site.slot.path + ": another adapter has wrapped that projection since");
    }
    merge();
    for (Site& site : m_sites)
        site.slot.set(site.wrapper->base_layer);
    m_savedBiases.clear();
    m_addedBiases.clear();
    m_unloaded = true;
}

// ---- Factory ---------------------------------------------------------------------

std::unique_ptr<Adapter> applyBitFit(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                     const ApplyContext& context)
{
    (void)context;
    const std::vector<std::string> targets = targetsOrDefault(settings, model->config());
    const at::TensorOptions opts = adapterTensorOptions(model);
    std::vector<BitFitAdapter::Site> sites;
    for (ProjectionSlot& slot : selectSlots(model, targets)) {
        auto wrapper = std::make_shared<BitFitLinearImpl>(slot.get(), opts);
        slot.set(wrapper);
        sites.push_back({slot, wrapper});
    }
    return std::make_unique<BitFitAdapter>(name, settings, model, std::move(sites));
}

} // namespace ft::peft
