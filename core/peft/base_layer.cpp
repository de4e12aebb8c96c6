// Reading, writing, saving and restoring dense and NF4 base projections; see base_layer.h.
#include "peft/base_layer.h"

#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::peft {

namespace {

[[noreturn]] void unknownKind(const std::string& where)
{
    fail(where + ": the layer there is neither a dense nor an NF4 projection (is another adapter wrapped around it? "
                 "merge or remove that adapter first)");
}

} // namespace

at::Tensor projectionWeight(const model::LinearLayer& layer, c10::ScalarType dtype, const std::string& where)
{
    if (auto* dense = layer->as<model::DenseLinearImpl>())
        return dense->weight.scalar_type() == dtype ? dense->weight.detach() : dense->weight.detach().to(dtype);
    if (auto* nf4 = layer->as<Nf4LinearImpl>())
        return nf4->dequantizedWeight(dtype);
    unknownKind(where);
}

at::Tensor projectionBias(const model::LinearLayer& layer)
{
    if (auto* dense = layer->as<model::DenseLinearImpl>())
        return dense->bias;
    if (auto* nf4 = layer->as<Nf4LinearImpl>())
        return nf4->bias;
    return {};
}

c10::Device projectionDevice(const model::LinearLayer& layer)
{
    for (const auto& p : layer->parameters())
        return p.device();
    for (const auto& b : layer->buffers())
        return b.device();
    return c10::Device(c10::kCPU);
}

std::optional<c10::ScalarType> denseWeightType(const model::LinearLayer& layer)
{
    if (auto* dense = layer->as<model::DenseLinearImpl>())
        return dense->weight.scalar_type();
    return std::nullopt;
}

BaseLayerCopy copyBaseLayer(const model::LinearLayer& layer, const std::string& where)
{
    at::NoGradGuard noGrad;
    BaseLayerCopy copy;
    if (auto* dense = layer->as<model::DenseLinearImpl>())
        copy.weight = dense->weight.detach().clone();
    else if (auto* nf4 = layer->as<Nf4LinearImpl>())
        copy.nf4 = nf4->quantized().clone();
    else
        unknownKind(where);
    if (at::Tensor bias = projectionBias(layer); bias.defined())
        copy.bias = bias.detach().clone();
    return copy;
}

void restoreBaseLayer(const model::LinearLayer& layer, const BaseLayerCopy& copy)
{
    at::NoGradGuard noGrad;
    if (auto* dense = layer->as<model::DenseLinearImpl>())
        dense->weight.copy_(copy.weight);
    else if (auto* nf4 = layer->as<Nf4LinearImpl>())
        nf4->restore(*copy.nf4);
    if (copy.bias.defined())
        projectionBias(layer).copy_(copy.bias);
}

void writeBaseLayer(const model::LinearLayer& layer, const at::Tensor& weight, const at::Tensor& bias,
                    const std::string& where)
{
    at::NoGradGuard noGrad;
    if (auto* dense = layer->as<model::DenseLinearImpl>())
        dense->weight.copy_(weight);
    else if (auto* nf4 = layer->as<Nf4LinearImpl>())
        nf4->requantize(weight);
    else
        unknownKind(where);
    if (bias.defined())
        projectionBias(layer).copy_(bias);
}

} // namespace ft::peft
