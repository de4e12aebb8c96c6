// The OLMo 2 decoder layer; see olmo2_block.h.
#include "model/olmo2_block.h"

namespace ft::model {

Olmo2DecoderLayerImpl::Olmo2DecoderLayerImpl(const ModelConfig& c) : DecoderLayerImpl(c, /*withNorms=*/false)
{
    post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps));
    post_feedforward_layernorm = register_module("post_feedforward_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps));
    post_attention_layernorm->scaleInFloat = post_feedforward_layernorm->scaleInFloat = true;  // as Olmo2RMSNorm
}

at::Tensor Olmo2DecoderLayerImpl::forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask,
                                          at::Tensor* cacheK, at::Tensor* cacheV)
{
    at::Tensor h = x + post_attention_layernorm->forward(self_attn->forward(x, rope, mask, cacheK, cacheV));
    return h + post_feedforward_layernorm->forward(mlp->forward(h));
}

std::shared_ptr<DecoderLayerImpl> makeOlmo2DecoderLayer(const ModelConfig& c)
{
    return std::make_shared<Olmo2DecoderLayerImpl>(c);
}

} // namespace ft::model
