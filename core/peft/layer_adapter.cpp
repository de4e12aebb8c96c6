// The shared adapter over projection wrappers; see layer_adapter.h.
#include "peft/layer_adapter.h"

#include "peft/adapter_support.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::peft {

LayerAdapter::LayerAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries)
    : Adapter(std::move(name), std::move(settings)), m_model(std::move(model)), m_entries(std::move(entries))
{
}

NamedTensors LayerAdapter::trainableParameters()
{
    const auto paths = modulePaths(*m_model);  // live: another adapter may have wrapped ours since
    NamedTensors out;
    for (const Entry& e : m_entries) {
        auto it = paths.find(e.layer.get());
        const std::string& path = it != paths.end() ? it->second : e.slot.path;
        for (auto& [leaf, tensor] : e.layer->adapterTensors())
            out.emplace_back(path + "." + leaf, tensor);
    }
    return out;
}

NamedTensors LayerAdapter::stateDict()
{
    NamedTensors out;
    for (const Entry& e : m_entries)
        for (auto& [leaf, tensor] : e.layer->adapterTensors())
            out.emplace_back(peftKey(e.slot.path, leaf), tensor.detach());
    return out;
}

void LayerAdapter::loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source)
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

void LayerAdapter::setEnabled(bool on)
{
    if (!on && m_merged)
        unmerge();  // as PEFT: disabling a merged adapter takes its update out of the weights
    for (Entry& e : m_entries)
        e.layer->setEnabled(on);
    m_enabled = on;
}

bool LayerAdapter::canMerge() const
{
    for (const Entry& e : m_entries)
        if (!e.layer->canMerge())
            return false;
    return true;
}

void LayerAdapter::merge()
{
    if (!canMerge())
        Adapter::merge();  // the technique's explanation
    if (m_merged)
        return;
    std::vector<AdaptedLinearImpl*> done;
    try {
        for (Entry& e : m_entries) {
            e.layer->merge(e.slot.path);
            done.push_back(e.layer.get());
        }
    } catch (...) {
        for (auto* layer : done)
            layer->unmerge();  // all or nothing
        throw;
    }
    m_merged = true;
}

void LayerAdapter::unmerge()
{
    if (!canMerge())
        Adapter::unmerge();
    for (Entry& e : m_entries)
        e.layer->unmerge();
    m_merged = false;
}

void LayerAdapter::mergeAndUnload(c10::ScalarType dtype)
{
    if (!canMerge())
        Adapter::mergeAndUnload(dtype);
    if (m_unloaded)
        return;
    unmerge();
    // First a pass that only checks, so a bad layer stops the unload before any slot
    // changed; then one slot at a time, so only one layer's copy exists at once.
    for (Entry& e : m_entries) {
        at::NoGradGuard noGrad;
        requireFiniteMerge(e.layer->mergedWeight(at::kFloat, e.slot.path), e.slot.path);
        requireFiniteMerge(e.layer->mergedBias(at::kFloat), e.slot.path);
    }
    for (Entry& e : m_entries)
        e.slot.set(e.layer->unloaded(dtype, e.slot.path));
    afterUnload(dtype);
    m_entries.clear();
    m_unloaded = true;
}

} // namespace ft::peft
