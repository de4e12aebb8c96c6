// Gemma 3 text (gemma3_text: Gemma3ForCausalLM, the 1B model and text-only folders;
// transformers' modeling_gemma3.py): Gemma 2's block without soft-capping, plus an
// RMSNorm (1 + w) over each head's queries and keys before RoPE (q_norm, k_norm), a
// local:global layer pattern (layer_types, else sliding_window_pattern: every 6th
// layer global), and two RoPE tables: windowed layers use rope_local_base_freq
// without scaling, global layers rope_theta with rope_scaling (linear x8 on 4B+).
// The multimodal "gemma3" folders (Gemma3ForConditionalGeneration: 4B, 12B, 27B) hold
// this model under text_config and language_model.*; the engine runs their text part
// (MultimodalWrapper, architecture.h).
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

// Gemma3TextConfig's defaults (transformers' configuration_gemma3.py): the 4B model's
// text_config gives only hidden_size, intermediate_size, num_hidden_layers,
// rope_scaling and sliding_window, and relies on these for the rest.
nlohmann::json gemma3TextDefaults()
{
    return {{"model_type", "gemma3_text"},
            {"vocab_size", 262208},
            {"hidden_size", 2304},
            {"intermediate_size", 9216},
            {"num_hidden_layers", 26},
            {"num_attention_heads", 8},
            {"num_key_value_heads", 4},
            {"head_dim", 256},
            {"hidden_activation", "gelu_pytorch_tanh"},
            {"max_position_embeddings", 131072},
            {"rms_norm_eps", 1e-6},
            {"bos_token_id", 2},
            {"eos_token_id", 1},
            {"tie_word_embeddings", true},
            {"rope_theta", 1000000.0},
            {"attention_bias", false},
            {"query_pre_attn_scalar", 256},
            {"sliding_window", 4096},
            {"final_logit_softcapping", nullptr},
            {"attn_logit_softcapping", nullptr},
            {"rope_scaling", nullptr},
            {"rope_local_base_freq", 10000.0},
            {"sliding_window_pattern", 6}};
}

const MultimodalWrapper kGemma3Multimodal{
    .modelType = "gemma3", .className = "Gemma3ForConditionalGeneration", .textDefaults = gemma3TextDefaults};

} // namespace

const Architecture& gemma3TextArchitecture()
{
    static const Architecture a{.arch = Arch::Gemma3Text,
                                .modelType = "gemma3_text",
                                .className = "Gemma3ForCausalLM",
                                .traits = {.slidingWindow = true, .qkNorm = true, .gemmaBlock = true},
                                .parseFields = parseGemma3Text,
                                .writeFields = writeGemma3Text,
                                .multimodal = &kGemma3Multimodal};
    return a;
}

} // namespace ft::model
