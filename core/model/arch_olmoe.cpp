// OLMoE (OLMoE-1B-7B; transformers' modeling_olmoe.py): Llama's pre-norm layer with
// RMSNorm over the whole q and k projections (Llama's norm, weights of H*D and K*D)
// and a mixture of experts in every layer (mlp.gate, mlp.experts.N.{gate,up,down}_proj,
// intermediate_size wide); norm_topk_prob is false in the released checkpoints, so the
// top-k softmax weights are used as they are. clip_qkv (null in the releases) is refused.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"
#include "model/moe_fields.h"

namespace ft::model {

namespace {

void parseOlmoe(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
    if (j.contains("clip_qkv") && !j["clip_qkv"].is_null())
        fail(source + ": clip_qkv " + j["clip_qkv"].dump() + " is not supported (OLMoE's releases ship null)");
    parseExperts(j, f, c, source, "num_experts", "intermediate_size", "norm_topk_prob", false, 0.01);
}

void writeOlmoe(const ModelConfig& c, nlohmann::json& j)
{
    j["attention_bias"] = c.attentionBias;
    j["clip_qkv"] = nullptr;
    writeExperts(c, j, "num_experts", "intermediate_size", "norm_topk_prob");
}

} // namespace

const Architecture& olmoeArchitecture()
{
    static const Architecture a{.arch = Arch::Olmoe,
                                .modelType = "olmoe",
                                .className = "OlmoeForCausalLM",
                                .traits = {.wholeQkNorm = true},
                                .parseFields = parseOlmoe,
                                .writeFields = writeOlmoe};
    return a;
}

} // namespace ft::model
