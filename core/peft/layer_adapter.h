// An adapter made of wrappers in projection slots (LoRA and its variants, IA3,
// bottleneck adapters): the list of wrappers and where they sit, and everything the
// Adapter interface asks that follows from it — trainable parameters and file keys
// from each wrapper's leaf names, enable/disable, all-or-nothing merge, unmerge and
// merge-and-unload. A technique subclasses it for its peft_type and config fields.
// Not here: one wrapper's arithmetic (adapted_linear.h), files (adapter_io.h).
#pragma once

#include "peft/adapted_linear.h"
#include "peft/adapter.h"
#include "peft/targets.h"

#include <memory>
#include <vector>

namespace ft::peft {

class LayerAdapter : public Adapter {
public:
    struct Entry {
        ProjectionSlot slot;
        std::shared_ptr<AdaptedLinearImpl> layer;
    };

    // "<live module path>.<leaf>" for each wrapper's adapterTensors()
    NamedTensors trainableParameters() override;
    // peftKey(slot path, leaf)
    NamedTensors stateDict() override;
    void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) override;
    void setEnabled(bool on) override;
    bool canMerge() const override;
    void merge() override;
    void unmerge() override;
    void mergeAndUnload(c10::ScalarType dtype) override;

    const std::vector<Entry>& entries() const { return m_entries; }

protected:
    LayerAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries);
    // Called once after merge-and-unload put dense layers in every slot.
    virtual void afterUnload(c10::ScalarType dtype) { (void)dtype; }
    model::CausalLM& model() { return m_model; }

private:
    model::CausalLM m_model;
    std::vector<Entry> m_entries;
    bool m_unloaded = false;
};

} // namespace ft::peft
