// Gemma 3 text (gemma3_text: Gemma3ForCausalLM, the 1B model and text-only folders;
// transformers' modeling_gemma3.py): Gemma 2's block without soft-capping, plus an
// RMSNorm (1 + w) over each head's queries and keys before RoPE (q_norm, k_norm), a
// local:global layer pattern (layer_types, else sliding_window_pattern: every 6th
// layer global), and two RoPE tables: windowed layers use rope_local_base_freq
// without scaling, global layers rope_theta with rope_scaling (linear x8 on 4B+).
// Not here: the multimodal "gemma3" folders (Gemma3ForConditionalGeneration), whose
// weights sit under language_model.*.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/gemma_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

namespace ft::model {

namespace {

void parseGemma3Text(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    readGemmaCommon(f, c, source);
    if (f.numberOr("attn_logit_softcapping", 0.0) != 0.0 || f.numberOr("final_logit_softcapping", 0.0) != 0.0)
        fail(source + ": Gemma 3 does not soft-cap; attn_logit_softcapping and final_logit_softcapping must be null");
    c.slidingWindow = f.positiveIntOr("sliding_window", 4096);
    c.slidingLayers = gemmaSlidingLayers(j, c.numHiddenLayers, f.positiveIntOr("sliding_window_pattern", 6), source);
    c.ropeLocalTheta = f.numberOr("rope_local_base_freq", 10000.0);
}

void writeGemma3Text(const ModelConfig& c, nlohmann::json& j)
{
    j["hidden_activation"] = c.hiddenAct;
    j["attention_bias"] = c.attentionBias;
    j["query_pre_attn_scalar"] = c.queryPreAttnScalar > 0 ? c.queryPreAttnScalar : double(c.headDim);
    j["attn_logit_softcapping"] = nullptr;
    j["final_logit_softcapping"] = nullptr;
    j["rope_local_base_freq"] = c.ropeLocalTheta ? *c.ropeLocalTheta : 10000.0;
    writeGemmaLayerTypes(c, j);
}

} // namespace

const Architecture& gemma3TextArchitecture()
{
    static const Architecture a{.arch = Arch::Gemma3Text,
                                .modelType = "gemma3_text",
                                .className = "Gemma3ForCausalLM",
                                .traits = {.slidingWindow = true, .qkNorm = true, .gemmaBlock = true},
                                .parseFields = parseGemma3Text,
                                .writeFields = writeGemma3Text};
    return a;
}

} // namespace ft::model
