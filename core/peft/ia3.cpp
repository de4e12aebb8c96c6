// (IA)^3 wrappers and their adapter; see ia3.h.
#include "peft/ia3.h"

#include "peft/adapter_support.h"
#include "peft/config_fields.h"
#include "peft/targets.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::peft {

Ia3LinearImpl::Ia3LinearImpl(model::LinearLayer base, bool feedforward, c10::ScalarType dtype)
    : AdaptedLinearImpl(std::move(base)), m_feedforward(feedforward)
{
    const auto opts = at::TensorOptions().dtype(dtype).device(projectionDevice(base_layer));
    ia3_l = register_parameter("ia3_l", feedforward ? at::ones({1, base_layer->inFeatures()}, opts)
                                                    : at::ones({base_layer->outFeatures(), 1}, opts));
    train(base_layer->is_training());
}

at::Tensor Ia3LinearImpl::forward(const at::Tensor& x)
{
    if (!contributes())
        return base_layer->forward(x);
    at::Tensor l = ia3_l.flatten();  // (in,) or (out,)
    if (m_feedforward)
        return base_layer->forward((x.to(l.scalar_type()) * l).to(x.scalar_type()));
    at::Tensor y = base_layer->forward(x);  // (..., out)
    return (y.to(l.scalar_type()) * l).to(y.scalar_type());
}

void Ia3LinearImpl::checkMergeable(const std::string& where) const
{
    if (!ia3_l.isfinite().all().item<bool>() || (ia3_l == 0).any().item<bool>())
        fail(where + ": cannot merge IA3: a scale is 0 or not finite, so the merge could not be undone "
                     "(nothing was changed)");
}

at::Tensor Ia3LinearImpl::mergedWeight(c10::ScalarType dtype, const std::string& where) const
{
    at::NoGradGuard noGrad;
    return projectionWeight(base_layer, dtype, where) * ia3_l.detach().to(dtype);  // (out, in) * (out, 1) or (1, in)
}

at::Tensor Ia3LinearImpl::mergedBias(c10::ScalarType dtype) const
{
    at::Tensor bias = AdaptedLinearImpl::mergedBias(dtype);
    if (!bias.defined() || m_feedforward)
        return bias;
    at::NoGradGuard noGrad;
    return bias * ia3_l.detach().to(dtype).flatten();
}

void Ia3LinearImpl::undoMerge(model::DenseLinearImpl& base) const
{
    at::Tensor l = ia3_l.detach().to(base.weight.scalar_type());
    base.weight.div_(l);
    if (!m_feedforward && base.bias.defined())
        base.bias.div_(l.flatten());
}

// ---- Ia3Adapter ------------------------------------------------------------------

Ia3Adapter::Ia3Adapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries,
                       std::vector<std::string> targets, std::vector<std::string> feedforward)
    : LayerAdapter(std::move(name), std::move(settings), std::move(model), std::move(entries)),
      m_targets(std::move(targets)), m_feedforward(std::move(feedforward))
{
}

nlohmann::json Ia3Adapter::configJson() const
{
    return {{"target_modules", m_targets},
            {"feedforward_modules", m_feedforward},
            {"init_ia3_weights", true},
            {"fan_in_fan_out", false}};
}

std::unique_ptr<Adapter> applyIa3(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                  const ApplyContext& context)
{
    (void)context;
    if (settings.technique != "ia3")
        fail("applyIa3: technique '" + settings.technique + "' is not ia3");
    const std::vector<std::string> targets = targetsOrDefault(settings, model->config());
    const std::vector<std::string> feedforward =
        settings.feedforwardModules.empty() ? std::vector<std::string>{"down_proj"} : settings.feedforwardModules;
    std::vector<ProjectionSlot> slots = selectSlots(model, targets);
    const auto dtype = adapterTensorOptions(model).dtype().toScalarType();
    std::vector<LayerAdapter::Entry> entries;
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

} // namespace ft::peft
