// Qwen3 (dense: 0.6B to 32B): Llama's block plus an RMSNorm over each attention
// head's queries and keys before RoPE (self_attn.q_norm, self_attn.k_norm, weight of
// head_dim), an explicit head_dim (128, so heads x head_dim may differ from
// hidden_size), no biases unless attention_bias (which then covers q, k, v and o, as
// in transformers' modeling_qwen3.py), tied embeddings on the small sizes. Like Qwen2
// its per-layer sliding window is refused when a config would turn it on.
// Not here: Qwen3-MoE (qwen3_moe), a different block.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

namespace ft::model {

namespace {

void parseQwen3(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
    refuseWindowedLayers(j, f, c.numHiddenLayers, "Qwen3", source);
}

void writeQwen3(const ModelConfig& c, nlohmann::json& j)
{
    j["attention_bias"] = c.attentionBias;
    j["use_sliding_window"] = false;
}

} // namespace

const Architecture& qwen3Architecture()
{
    static const Architecture a{.arch = Arch::Qwen3,
                                .modelType = "qwen3",
                                .className = "Qwen3ForCausalLM",
                                .traits = {.qkNorm = true},
                                .parseFields = parseQwen3,
                                .writeFields = writeQwen3};
    return a;
}

} // namespace ft::model
