// The Gemma decoder layer; see gemma_block.h.
#include "model/gemma_block.h"

namespace ft::model {

GemmaDecoderLayerImpl::GemmaDecoderLayerImpl(const ModelConfig& c) : DecoderLayerImpl(c)
{
    pre_feedforward_layernorm =
        register_module("pre_feedforward_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps, /*unitOffset=*/true));
    post_feedforward_layernorm =
        register_module("post_feedforward_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps, /*unitOffset=*/true));
}

at::Tensor GemmaDecoderLayerImpl::forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask,
                                          at::Tensor* cacheK, at::Tensor* cacheV)
{
    at::Tensor h = x + post_attention_layernorm->forward(
                           self_attn->forward(input_layernorm->forward(x), rope, mask, cacheK, cacheV));
    return h + post_feedforward_layernorm->forward(mlp->forward(pre_feedforward_layernorm->forward(h)));
}

std::shared_ptr<DecoderLayerImpl> makeGemmaDecoderLayer(const ModelConfig& c)
{
    return std::make_shared<GemmaDecoderLayerImpl>(c);
}

} // namespace ft::model
