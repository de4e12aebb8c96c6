// Qwen3-MoE (Qwen3-30B-A3B, Qwen3-235B-A22B; transformers' modeling_qwen3_moe.py):
// Qwen3's attention (per-head q/k norms, explicit head_dim) with a mixture of experts
// (model/moe_block.h) as mlp.gate + mlp.experts.N.{gate,up,down}_proj in the layers
// decoder_sparse_step selects and mlp_only_layers does not list; those layers keep a
// dense MLP of intermediate_size. norm_topk_prob renormalizes the top-k weights (true
// in the released checkpoints). Like Qwen3, a config turning the sliding window on is refused.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"
#include "model/moe_fields.h"

namespace ft::model {

namespace {

void parseQwen3Moe(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
    refuseWindowedLayers(j, f, c.numHiddenLayers, "Qwen3-MoE", source);
    parseExperts(j, f, c, source, "num_experts", "moe_intermediate_size", "norm_topk_prob", false, 0.001);
    const int64_t step = f.positiveIntOr("decoder_sparse_step", 1);
    std::vector<bool> denseOnly(size_t(c.numHiddenLayers), false);
    if (j.contains("mlp_only_layers") && !j["mlp_only_layers"].is_null()) {
        if (!j["mlp_only_layers"].is_array())
            fail(source + ": mlp_only_layers must be a list of layer indices");
        for (const auto& v : j["mlp_only_layers"]) {
            if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= c.numHiddenLayers)
                fail(source + ": mlp_only_layers holds " + v.dump() + "; expected layer indices below " +
                     std::to_string(c.numHiddenLayers));
            denseOnly[size_t(v.get<int64_t>())] = true;
        }
    }
    c.sparseLayers.clear();
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        c.sparseLayers.push_back(!denseOnly[size_t(i)] && (i + 1) % step == 0);
}

void writeQwen3Moe(const ModelConfig& c, nlohmann::json& j)
{
    j["attention_bias"] = c.attentionBias;
    j["use_sliding_window"] = false;
    writeExperts(c, j, "num_experts", "moe_intermediate_size", "norm_topk_prob");
    j["decoder_sparse_step"] = 1;
    nlohmann::json dense = nlohmann::json::array();
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        if (!c.layerIsSparse(i))
            dense.push_back(i);
    j["mlp_only_layers"] = dense;
}

} // namespace

const Architecture& qwen3MoeArchitecture()
{
    static const Architecture a{.arch = Arch::Qwen3Moe,
                                .modelType = "qwen3_moe",
                                .className = "Qwen3MoeForCausalLM",
                                .traits = {.qkNorm = true},
                                .parseFields = parseQwen3Moe,
                                .writeFields = writeQwen3Moe};
    return a;
}

} // namespace ft::model
