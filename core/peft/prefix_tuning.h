// Prefix tuning: N learned keys and values put in front of every layer's attention
// cache, so every real token attends to them. Shaped like PEFT's PrefixEncoder and
// get_prompt, so PEFT reads our adapter_model.safetensors unchanged:
//   prompt_embeddings (N, L*2*K*D), viewed as (N, L*2, K, D); index 2l along the second
//   axis is layer l's key, 2l+1 its value; K = num_key_value_heads (PEFT's GQA rule:
//   token_dim = K*D and num_attention_heads = K in adapter_config.json).
// Without projection that matrix is the trained embedding; with prefix_projection it is
// the output of embedding (N, K*D) -> Linear(K*D, encoder_hidden) -> tanh ->
// Linear(encoder_hidden, L*2*K*D). Not here: where the model consumes the prefix
// (CausalLMImpl::hidden), the shared save/load logic (prompt_tuning.h).
#pragma once

#include "peft/prompt_tuning.h"

namespace ft::peft {

class PrefixEncoderImpl : public PromptLearningTokensImpl {
public:
    PrefixEncoderImpl(int64_t count, int64_t layers, int64_t kvHeads, int64_t headDim, bool projection,
                      int64_t encoderHidden);
    // One (B, K, N, D) key and value per layer.
    bool prefixKeyValues(int64_t batch, std::vector<at::Tensor>& keys, std::vector<at::Tensor>& values) override;
    torch::nn::Sequential transform{nullptr};  // with prefix_projection only

protected:
    at::Tensor encode(const at::Tensor& x) override { return transform->forward(x); }
    void dropEncoder() override;

private:
    int64_t m_layers, m_kvHeads, m_headDim;
};

std::unique_ptr<Adapter> applyPrefixTuning(model::CausalLM& model, const PeftSettings& settings,
                                           const std::string& name, const ApplyContext& context);

} // namespace ft::peft
