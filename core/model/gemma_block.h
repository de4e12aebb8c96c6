// The Gemma 2 / Gemma 3 decoder layer (transformers' modeling_gemma2.py,
// modeling_gemma3.py): the Llama layer's projections and norms plus a norm on the
// attention output and one on each side of the MLP, all scaling by (1 + weight):
//   h = x + post_attention_layernorm(attn(input_layernorm(x)))
//   y = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h)))
// The rest of what makes Gemma (gelu-tanh MLP, sqrt(hidden) embedding scale,
// query_pre_attn_scalar, soft-capping, windowed layers, per-head q/k norms in Gemma 3)
// is read from ModelConfig by the shared modules in model/llama.cpp.
#pragma once

#include "model/llama.h"

#include <memory>

namespace ft::model {

class GemmaDecoderLayerImpl : public DecoderLayerImpl {
public:
    explicit GemmaDecoderLayerImpl(const ModelConfig& c);
    at::Tensor forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask, at::Tensor* cacheK,
                       at::Tensor* cacheV) override;
    RMSNorm pre_feedforward_layernorm{nullptr};
    RMSNorm post_feedforward_layernorm{nullptr};
};

std::shared_ptr<DecoderLayerImpl> makeGemmaDecoderLayer(const ModelConfig& c);

} // namespace ft::model
