// Mixtral (8x7B, 8x22B; transformers' modeling_mixtral.py): Mistral's attention with
// a mixture of experts in every layer, named block_sparse_moe.gate and
// block_sparse_moe.experts.N.{w1,w3,w2} (gate, up, down), each expert
// intermediate_size wide; the top-k routing weights are always renormalized. The
// sliding window follows Mistral's fields (null in the released checkpoints).
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"
#include "model/moe_fields.h"

namespace ft::model {

namespace {

void parseMixtral(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = c.attentionOutBias = false;
    if (j.contains("sliding_window") && !j["sliding_window"].is_null())
        c.slidingWindow = f.positiveInt("sliding_window");
    parseExperts(j, f, c, source, "num_local_experts", "intermediate_size", nullptr, true, 0.001);
}

void writeMixtral(const ModelConfig& c, nlohmann::json& j)
{
    j["sliding_window"] = c.slidingWindow ? nlohmann::json(*c.slidingWindow) : nlohmann::json(nullptr);
    writeExperts(c, j, "num_local_experts", "intermediate_size", nullptr);
    j["router_jitter_noise"] = 0.0;
}

} // namespace

const Architecture& mixtralArchitecture()
{
    static const Architecture a{.arch = Arch::Mixtral,
                                .modelType = "mixtral",
                                .className = "MixtralForCausalLM",
                                .traits = {.slidingWindow = true, .moeBlockName = "block_sparse_moe", .mixtralExpertNames = true},
                                .parseFields = parseMixtral,
                                .writeFields = writeMixtral};
    return a;
}

} // namespace ft::model
