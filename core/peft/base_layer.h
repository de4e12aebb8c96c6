// The one place that knows the kinds of base projection an adapter can sit on
// (dense, NF4) — PEFT's dispatcher list: reading a base's weight and bias, writing a
// merged weight back into it, and saving and restoring it so a merge can be undone.
// A new kind of base (the fused projections of other architectures) is added here.
// Not here: what an adapter adds (adapted_linear.h and each technique's file).
#pragma once

#include "model/llama.h"
#include "peft/nf4.h"

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

namespace ft::peft {

// The weight of a dense or NF4 projection in `dtype` ((out, in); the dense one
// without a copy when the dtype already matches), and its bias (undefined when none).
// Other layer kinds (an adapter's wrapper) are an ft::Error naming `where`.
at::Tensor projectionWeight(const model::LinearLayer& layer, c10::ScalarType dtype, const std::string& where);
at::Tensor projectionBias(const model::LinearLayer& layer);
// The device a projection's tensors live on.
c10::Device projectionDevice(const model::LinearLayer& layer);
// The dtype a dense base stores its weight in; nullopt for a quantized base.
std::optional<c10::ScalarType> denseWeightType(const model::LinearLayer& layer);

// A copy of a base projection's stored state, taken before a merge that cannot be
// taken out again by arithmetic.
struct BaseLayerCopy {
    at::Tensor weight, bias;        // dense: exact copies; bias undefined when none
    std::optional<Nf4Tensor> nf4;   // NF4: the quantized state
};
BaseLayerCopy copyBaseLayer(const model::LinearLayer& layer, const std::string& where);
void restoreBaseLayer(const model::LinearLayer& layer, const BaseLayerCopy& copy);

// Writes `weight` (out, in) and `bias` (out,) (undefined: left as is) into the base:
// a dense base in place in its own dtype, an NF4 base re-quantized.
void writeBaseLayer(const model::LinearLayer& layer, const at::Tensor& weight, const at::Tensor& bias,
                    const std::string& where);

} // namespace ft::peft
