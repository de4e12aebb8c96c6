// Phi-3 / Phi-3.5 / Phi-4-mini (transformers' modeling_phi3.py): Llama's block with
// the projections fused as the checkpoints store them (self_attn.qkv_proj with rows
// q, k, v; mlp.gate_up_proj with the gate half first), no biases, LongRoPE scaling
// (rope_scaling type "longrope", or its early name "su": short and long factors per
// rotated pair, the attention factor from max / original_max_position_embeddings),
// partial rotary embeddings (Phi-4-mini rotates 3/4 of each head), and a sliding
// window on every layer when sliding_window is set (Phi-3-mini-4k: 2047).
// The dropout fields (resid_pdrop, embd_pdrop, attention_dropout) are 0 in every
// released Phi-3 and are not applied.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

namespace ft::model {

namespace {

void parsePhi3(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string&)
{
    c.attentionBias = c.attentionOutBias = false;
    c.mlpBias = false;
    c.partialRotaryFactor = f.numberOr("partial_rotary_factor", 1.0);
    if (j.contains("sliding_window") && !j["sliding_window"].is_null())
        c.slidingWindow = f.positiveInt("sliding_window");
}

void writePhi3(const ModelConfig& c, nlohmann::json& j)
{
    j["partial_rotary_factor"] = c.partialRotaryFactor;
    j["sliding_window"] = c.slidingWindow ? nlohmann::json(*c.slidingWindow) : nlohmann::json(nullptr);
    j["resid_pdrop"] = 0.0;
    j["embd_pdrop"] = 0.0;
    j["attention_dropout"] = 0.0;
    if (c.ropeScaling.type != "longrope")
        j["original_max_position_embeddings"] = c.maxPositionEmbeddings;
}

} // namespace

const Architecture& phi3Architecture()
{
    static const Architecture a{.arch = Arch::Phi3,
                                .modelType = "phi3",
                                .className = "Phi3ForCausalLM",
                                .traits = {.slidingWindow = true, .fusedProjections = true},
                                .parseFields = parsePhi3,
                                .writeFields = writePhi3};
    return a;
}

} // namespace ft::model
