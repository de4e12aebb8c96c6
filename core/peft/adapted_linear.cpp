// Enable, merge, unmerge and unload for every wrapper; see adapted_linear.h.
#include "peft/adapted_linear.h"

#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::peft {

void requireFiniteMerge(const at::Tensor& t, const std::string& where)
{
    if (t.defined() && !t.isfinite().all().item<bool>())
        fail(where + ": merging would write inf or NaN values into the weight; the adapter's weights are not "
                     "usable (nothing was changed)");
}

AdaptedLinearImpl::AdaptedLinearImpl(model::LinearLayer base)
{
    base_layer = register_module("base_layer", std::move(base));
}

void AdaptedLinearImpl::setEnabled(bool on)
{
    if (!on)
        unmerge();
    m_enabled = on;
}

at::Tensor AdaptedLinearImpl::mergedWeight(c10::ScalarType, const std::string& where) const
{
    fail(where + ": this adapter cannot be merged into the base weights");
}

at::Tensor AdaptedLinearImpl::mergedBias(c10::ScalarType dtype) const
{
    at::Tensor bias = projectionBias(base_layer);
    return bias.defined() ? bias.detach().to(dtype).clone() : bias;
}

void AdaptedLinearImpl::merge(const std::string& where)
{
    if (m_merged)
        return;
    at::NoGradGuard noGrad;
    checkMergeable(where);
    const std::optional<c10::ScalarType> denseType = denseWeightType(base_layer);
    const c10::ScalarType dtype = denseType ? *denseType : quantizedMergeType();
    at::Tensor weight = mergedWeight(dtype, where), bias = mergedBias(dtype);
    requireFiniteMerge(weight, where);
    requireFiniteMerge(bias, where);
    if (!denseType || !undoesMerge(*denseType))
        m_preMerge = copyBaseLayer(base_layer, where);
    writeBaseLayer(base_layer, weight, bias, where);
    m_merged = true;
}

void AdaptedLinearImpl::unmerge()
{
    if (!m_merged)
        return;
    at::NoGradGuard noGrad;
    if (m_preMerge) {
        restoreBaseLayer(base_layer, *m_preMerge);
        m_preMerge.reset();
    } else {
        undoMerge(*base_layer->as<model::DenseLinearImpl>());
    }
    m_merged = false;
}

std::shared_ptr<model::DenseLinearImpl> AdaptedLinearImpl::unloaded(c10::ScalarType dtype, const std::string& where) const
{
    if (m_merged)
        fail(where + ": unmerge before unloading");
    const std::optional<c10::ScalarType> denseType = denseWeightType(base_layer);
    const c10::ScalarType target = denseType ? *denseType : dtype;
    at::NoGradGuard noGrad;
    at::Tensor weight = mergedWeight(target, where), bias = mergedBias(target);
    requireFiniteMerge(weight, where);
    requireFiniteMerge(bias, where);
    std::shared_ptr<model::DenseLinearImpl> layer;
    {
        model::SkipWeightInit skip;  // both tensors are replaced right after
        layer = std::make_shared<model::DenseLinearImpl>(inFeatures(), outFeatures(), bias.defined());
    }
    layer->train(is_training());
    layer->weight.set_data(weight);
    auto* dense = base_layer->as<model::DenseLinearImpl>();
    layer->weight.set_requires_grad(dense ? dense->weight.requires_grad() : false);
    if (bias.defined()) {
        layer->bias.set_data(bias);
        layer->bias.set_requires_grad(projectionBias(base_layer).requires_grad());
    }
    return layer;
}

} // namespace ft::peft
