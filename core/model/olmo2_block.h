// The OLMo 2 decoder layer (transformers' modeling_olmo2.py): the Llama layer's
// projections with its norms moved after the sublayers, and no input norm:
//   h = x + post_attention_layernorm(attn(x))
//   y = h + post_feedforward_layernorm(mlp(h))
// Its q_norm / k_norm (over the whole q and k projections) live in the shared
// Attention module (ArchTraits::olmo2Block).
#pragma once

#include "model/llama.h"

#include <memory>

namespace ft::model {

class Olmo2DecoderLayerImpl : public DecoderLayerImpl {
public:
    explicit Olmo2DecoderLayerImpl(const ModelConfig& c);
    at::Tensor forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask, at::Tensor* cacheK,
                       at::Tensor* cacheV) override;
    RMSNorm post_feedforward_layernorm{nullptr};
};

std::shared_ptr<DecoderLayerImpl> makeOlmo2DecoderLayer(const ModelConfig& c);

} // namespace ft::model
