// (IA)^3 (Liu et al. 2022): learned vectors that rescale activations. On an
// attention projection (default k_proj, v_proj) the vector scales the output; on a
// feed-forward module (default down_proj) it scales the input. Shapes, names and
// merge rules follow PEFT (tuners/ia3/layer.py): ia3_l is (out, 1) or (1, in).
// Not here: file I/O (adapter_io.h), choosing a technique by name (registry.h).
#pragma once

#include "peft/adapted_linear.h"
#include "peft/layer_adapter.h"

namespace ft::peft {

// Merging scales the base's weight columns (feed-forward) or rows and bias; it is
// refused when a scale is 0 or not finite, since unmerge divides by the same vector
// (exact up to one rounding per element).
class Ia3LinearImpl : public AdaptedLinearImpl {
public:
    Ia3LinearImpl(model::LinearLayer base, bool feedforward, c10::ScalarType dtype);
    // feed-forward: base(x * l); otherwise base(x) * l (the bias scaled too, as in PEFT)
    at::Tensor forward(const at::Tensor& x) override;  // (..., in) -> (..., out)
    std::vector<std::pair<std::string, at::Tensor>> adapterTensors() const override { return {{"ia3_l", ia3_l}}; }
    bool canMerge() const override { return true; }
    bool feedforward() const { return m_feedforward; }

    at::Tensor mergedWeight(c10::ScalarType dtype, const std::string& where) const override;
    at::Tensor mergedBias(c10::ScalarType dtype) const override;

    at::Tensor ia3_l;  // (out, 1), or (1, in) for a feed-forward module; ones at init

protected:
    void checkMergeable(const std::string& where) const override;
    bool undoesMerge(c10::ScalarType) const override { return true; }
    void undoMerge(model::DenseLinearImpl& base) const override;

private:
    bool m_feedforward;
};
using Ia3Linear = std::shared_ptr<Ia3LinearImpl>;

class Ia3Adapter : public LayerAdapter {
public:
    Ia3Adapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries,
               std::vector<std::string> targets, std::vector<std::string> feedforward);

    std::string peftType() const override { return "IA3"; }
    // target_modules, feedforward_modules, init_ia3_weights true, fan_in_fan_out false
    nlohmann::json configJson() const override;

private:
    std::vector<std::string> m_targets, m_feedforward;
};

// Technique "ia3". Targets: settings.targetModules or defaultTargets("ia3"); a target
// that also matches settings.feedforwardModules (empty = {"down_proj"}) is scaled at
// its input. The vectors are fp32 (fp64 for an fp64 model). Freezes nothing.
std::unique_ptr<Adapter> applyIa3(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                  const ApplyContext& context);

} // namespace ft::peft
