// (IA)^3 (Liu et al. 2022): learned vectors that rescale activations. On an
// attention projection (default k_proj, v_proj) the vector scales the output; on a
// feed-forward module (default down_proj) it scales the input. Shapes, names and
// merge rules follow PEFT (tuners/ia3/layer.py): ia3_l is (out, 1) or (1, in).
// Not here: file I/O (adapter_io.h), choosing a technique by name (registry.h).
#pragma once

#include "peft/adapter.h"
#include "peft/targets.h"

namespace ft::peft {

class Ia3LinearImpl : public model::LinearLayerImpl {
public:
    Ia3LinearImpl(model::LinearLayer base, bool feedforward, c10::ScalarType dtype);
    // feed-forward: base(x * l); otherwise base(x) * l (the bias scaled too, as in PEFT)
    at::Tensor forward(const at::Tensor& x) override;  // (..., in) -> (..., out)
    int64_t inFeatures() const override { return base_layer->inFeatures(); }
    int64_t outFeatures() const override { return base_layer->outFeatures(); }
    bool feedforward() const { return m_feedforward; }

    // Disabled: exactly the base's output (a merged layer is unmerged first).
    void setEnabled(bool on)
    {
        if (!on)
            unmerge();
        m_enabled = on;
    }
    bool enabled() const { return m_enabled; }
    // Scales the dense base's weight columns (feed-forward) or rows and bias; refuses
    // (ft::Error naming `where`) when a scale is 0 or not finite, since unmerge
    // divides by the same vector (exact up to one rounding per element).
    void merge(const std::string& where);
    void unmerge();
    bool merged() const { return m_merged; }
    // A DenseLinear with the scaled weight (an NF4 base is dequantized to `dtype`).
    std::shared_ptr<model::DenseLinearImpl> unloaded(c10::ScalarType dtype, const std::string& where) const;

    model::LinearLayer base_layer;
    at::Tensor ia3_l;  // (out, 1), or (1, in) for a feed-forward module; ones at init

private:
    bool m_feedforward;
    bool m_enabled = true;
    bool m_merged = false;
};
using Ia3Linear = std::shared_ptr<Ia3LinearImpl>;

class Ia3Adapter : public Adapter {
public:
    struct Entry {
        ProjectionSlot slot;
        Ia3Linear layer;
    };
    Ia3Adapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries,
               std::vector<std::string> targets, std::vector<std::string> feedforward);

    std::string peftType() const override { return "IA3"; }
    NamedTensors trainableParameters() override;  // "<module path>.ia3_l"
    NamedTensors stateDict() override;            // peftKey(slot path, "ia3_l")
    void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) override;
    // target_modules, feedforward_modules, init_ia3_weights true, fan_in_fan_out false
    nlohmann::json configJson() const override;
    void setEnabled(bool on) override;
    bool canMerge() const override { return true; }
    void merge() override;
    void unmerge() override;
    void mergeAndUnload(c10::ScalarType dtype) override;

    const std::vector<Entry>& entries() const { return m_entries; }

private:
    model::CausalLM m_model;
    std::vector<Entry> m_entries;
    std::vector<std::string> m_targets, m_feedforward;
    bool m_unloaded = false;
};

// Technique "ia3". Targets: settings.targetModules or defaultTargets("ia3"); a target
// that also matches settings.feedforwardModules (empty = {"down_proj"}) is scaled at
// its input. The vectors are fp32 (fp64 for an fp64 model). Freezes nothing.
std::unique_ptr<Adapter> applyIa3(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                  const ApplyContext& context);

} // namespace ft::peft
