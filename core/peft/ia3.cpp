// (IA)^3 wrappers and their adapter; see ia3.h.
#include "peft/ia3.h"

#include "peft/adapter_support.h"
#include "peft/config_fields.h"
#include "peft/nf4.h"
#include "peft/targets.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::peft {

Ia3LinearImpl::Ia3LinearImpl(model::LinearLayer base, bool feedforward, c10::ScalarType dtype)
    : m_feedforward(feedforward)
{
    base_layer = register_module("base_layer", std::move(base));
    const auto opts = at::TensorOptions().dtype(dtype).device(projectionDevice(base_layer));
    ia3_l = register_parameter("ia3_l", feedforward ? at::ones({1, base_layer->inFeatures()}, opts)
                                                    : at::ones({base_layer->outFeatures(), 1}, opts));
    train(base_layer->is_training());
}

at::Tensor Ia3LinearImpl::forward(const at::Tensor& x)
{
    if (!m_enabled || m_merged)
        return base_layer->forward(x);
    at::Tensor l = ia3_l.flatten();  // (in,) or (out,)
    if (m_feedforward)
        return base_layer->forward((x.to(l.scalar_type()) * l).to(x.scalar_type()));
    at::Tensor y = base_layer->forward(x);  // (..., out)
    return (y.to(l.scalar_type()) * l).to(y.scalar_type());
}

void Ia3LinearImpl::merge(const std::string& where)
{
    if (m_merged)
        return;
    auto* dense = base_layer->as<model::DenseLinearImpl>();
    if (!dense)
        fail(where + ": IA3 can merge only into a dense projection");
    at::NoGradGuard noGrad;
    if (!ia3_l.isfinite().all().item<bool>() || (ia3_l == 0).any().item<bool>())
        fail(where + ": cannot merge IA3: a scale is 0 or not finite, so the merge could not be undone "
                     "(nothing was changed)");
    at::Tensor l = ia3_l.to(dense->weight.scalar_type());
    at::Tensor w = dense->weight * l;  // (out, in) * (out, 1) or (1, in)
    at::Tensor b = (!m_feedforward && dense->bias.defined()) ? dense->bias * l.flatten() : at::Tensor();
    if (!w.isfinite().all().item<bool>() || (b.defined() && !b.isfinite().all().item<bool>()))
        fail(where + ": merging IA3 would write inf or NaN values into the weight (nothing was changed)");
    dense->weight.copy_(w);
    if (b.defined())
        dense->bias.copy_(b);
    m_merged = true;
}

void Ia3LinearImpl::unmerge()
{
    if (!m_merged)
        return;
    auto* dense = base_layer->as<model::DenseLinearImpl>();
    at::NoGradGuard noGrad;
    at::Tensor l = ia3_l.to(dense->weight.scalar_type());
    dense->weight.div_(l);
    if (!m_feedforward && dense->bias.defined())
        dense->bias.div_(l.flatten());
    m_merged = false;
}

std::shared_ptr<model::DenseLinearImpl> Ia3LinearImpl::unloaded(c10::ScalarType dtype, const std::string& where) const
{
    if (m_merged)
        fail(where + ": unmerge before unloading");
    auto* dense = base_layer->as<model::DenseLinearImpl>();
    const auto target = dense ? dense->weight.scalar_type() : dtype;
    at::NoGradGuard noGrad;
    at::Tensor l = ia3_l.detach().to(target);
    at::Tensor w = projectionWeight(base_layer, target, where) * l;
    at::Tensor bias = projectionBias(base_layer);
    if (bias.defined())
        bias = m_feedforward ? bias.detach().to(target).clone() : bias.detach().to(target) * l.flatten();
    if (!w.isfinite().all().item<bool>() || (bias.defined() && !bias.isfinite().all().item<bool>()))
        fail(where + ": merging IA3 would write inf or NaN values into the weight (nothing was changed)");
    std::shared_ptr<model::DenseLinearImpl> layer;
    {
        model::SkipWeightInit skip;
        layer = std::make_shared<model::DenseLinearImpl>(inFeatures(), outFeatures(), bias.defined());
    }
    layer->train(is_training());
    layer->weight.set_data(w);
    layer->weight.set_requires_grad(dense ? dense->weight.requires_grad() : false);
    if (bias.defined()) {
        layer->bias.set_data(bias);
        layer->bias.set_requires_grad(projectionBias(base_layer).requires_grad());
    }
    return layer;
}

// ---- Ia3Adapter ------------------------------------------------------------------

Ia3Adapter::Ia3Adapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries,
                       std::vector<std::string> targets, std::vector<std::string> feedforward)
    : Adapter(std::move(name), std::move(settings)), m_model(std::move(model)), m_entries(std::move(entries)),
      m_targets(std::move(targets)), m_feedforward(std::move(feedforward))
{
}

NamedTensors Ia3Adapter::trainableParameters()
{
    const auto paths = modulePaths(*m_model);  // live: another adapter may have wrapped ours since
    NamedTensors out;
    for (const auto& e : m_entries) {
        auto it = paths.find(e.layer.get());
        out.emplace_back((it != paths.end() ? it->second : e.slot.path) + ".ia3_l", e.layer->ia3_l);
    }
    return out;
}

NamedTensors Ia3Adapter::stateDict()
{
    NamedTensors out;
    for (const auto& e : m_entries)
        out.emplace_back(peftKey(e.slot.path, "ia3_l"), e.layer->ia3_l.detach());
    return out;
}

void Ia3Adapter::loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source)
{
    if (m_unloaded)
        fail("adapter '" + name() + "' was merged into the model and unloaded; load " + source + " into a new adapter");
    if (m_merged)
        fail("adapter '" + name() + "' is merged; unmerge it before loading " + source);
    TensorLoadPlan plan(tensors, source);
    for (auto& [key, dest] : stateDict())
        plan.expect(key, dest);
    plan.apply();
}

nlohmann::json Ia3Adapter::configJson() const
{
    return {{"target_modules", m_targets},
            {"feedforward_modules", m_feedforward},
            {"init_ia3_weights", true},
            {"fan_in_fan_out", false}};
}

void Ia3Adapter::setEnabled(bool on)
{
    if (!on && m_merged)
        unmerge();
    for (auto& e : m_entries)
        e.layer->setEnabled(on);
    m_enabled = on;
}

void Ia3Adapter::merge()
{
    if (m_merged)
        return;
    std::vector<Ia3LinearImpl*> done;
    try {
        for (auto& e : m_entries) {
            e.layer->merge(e.slot.path);
            done.push_back(e.layer.get());
        }
    } catch (...) {
        for (auto* layer : done)
            layer->unmerge();
        throw;
    }
    m_merged = true;
}

void Ia3Adapter::unmerge()
{
    for (auto& e : m_entries)
        e.layer->unmerge();
    m_merged = false;
}

void Ia3Adapter::mergeAndUnload(c10::ScalarType dtype)
{
    if (m_unloaded)
        return;
    unmerge();
    std::vector<std::shared_ptr<model::DenseLinearImpl>> replacements;  // vectors are tiny: build all, then swap
    for (auto& e : m_entries)
        replacements.push_back(e.layer->unloaded(dtype, e.slot.path));
    for (size_t i = 0; i < m_entries.size(); ++i)
        m_entries[i].slot.set(replacements[i]);
    m_entries.clear();
    m_unloaded = true;
}

std::unique_ptr<Adapter> applyIa3(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                  const ApplyContext& context)
{
    (void)context;
    if (settings.technique != "ia3")
        fail("applyIa3: technique '" + settings.technique + "' is not ia3");
    const std::vector<std::string> targets = targetsOrDefault(settings);
    const std::vector<std::string> feedforward =
        settings.feedforwardModules.empty() ? std::vector<std::string>{"down_proj"} : settings.feedforwardModules;
    std::vector<ProjectionSlot> slots = selectSlots(model, targets);
    const auto dtype = adapterTensorOptions(model).dtype().toScalarType();
    std::vector<Ia3Adapter::Entry> entries;
    for (auto& slot : slots) {
        auto layer = std::make_shared<Ia3LinearImpl>(slot.get(), matchesTarget(slot, feedforward), dtype);
        slot.set(layer);
        entries.push_back({slot, layer});
    }
    PeftSettings s = settings;
    s.targetModules = targets;
    s.feedforwardModules = feedforward;
    return std::make_unique<Ia3Adapter>(name, std::move(s), model, std::move(entries), targets, feedforward);
}

// ---- descriptor ----------------------------------------------------------------------

namespace {

// One scale per output feature, or per input feature for feed-forward modules.
TechniqueEstimate estimateIa3(const model::ModelConfig& c, const PeftSettings& s)
{
    const std::vector<std::string> feedforward =
        s.feedforwardModules.empty() ? std::vector<std::string>{"down_proj"} : s.feedforwardModules;
    TechniqueEstimate e;
    for (const ProjectionShape& p : selectShapes(c, targetsOrDefault(s)))
        e.added += matchesTarget(p.path, p.shortName, feedforward) ? p.in : p.out;
    return e;
}

void readPeftIa3(const nlohmann::json& j, const std::string& file, PeftSettings& s)
{
    s.technique = "ia3";
    s.feedforwardModules = configStringList(j, "feedforward_modules", file);
}

} // namespace

const Technique& ia3Technique()
{
    static const Technique t{.name = "ia3",
                             .summary = "IA3: trained scales on the activations of the targeted projections",
                             .peftType = "IA3",
                             .settings = {"target_modules", "feedforward_modules"},
                             .defaultTargets = {"k_proj", "v_proj", "down_proj"},
                             .apply = applyIa3,
                             .estimate = estimateIa3,
                             .readPeftConfig = readPeftIa3};
    return t;
}

} // namespace ft::peft
