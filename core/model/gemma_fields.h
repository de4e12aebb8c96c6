// config.json fields that Gemma 2 and Gemma 3 share (arch_gemma2.cpp, arch_gemma3.cpp):
// the activation, tied embeddings, biases, query_pre_attn_scalar and which layers are
// windowed.
#pragma once

#include "model/config_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ft::model {

// Which layers are windowed, from layer_types when the
// config has it, else every `period`-th layer (1-based) is global.
inline std::vector<bool> gemmaSlidingLayers(const nlohmann::json& j, int64_t layers, int64_t period, const std::string& source)
{
    std::vector<bool> sliding;
    if (j.contains("layer_types") && j["layer_types"].is_array()) {
        for (const auto& t : j["layer_types"]) {
            const std::string type = t.is_string() ? t.get<std::string>() : "";
            if (type != "sliding_attention" && type != "full_attention")
                fail(source + ": layer_types holds " + t.dump() + "; expected \"sliding_attention\" or \"full_attention\"");
            sliding.push_back(type == "sliding_attention");
        }
        if (int64_t(sliding.size()) != layers)
            fail(source + ": layer_types has " + std::to_string(sliding.size()) + " entries for " + std::to_string(layers) +
                 " layers");
        return sliding;
    }
    for (int64_t i = 0; i < layers; ++i)
        sliding.push_back((i + 1) % period != 0);
    return sliding;
}

inline void writeGemmaLayerTypes(const ModelConfig& c, nlohmann::json& j)
{
    nlohmann::json types = nlohmann::json::array();
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        types.push_back(c.layerIsSliding(i) ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
    j["sliding_window"] = c.slidingWindow ? nlohmann::json(*c.slidingWindow) : nlohmann::json(nullptr);
}

// Gemma's activation is hidden_activation (hidden_act is an older alias).
inline void readGemmaCommon(const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.hiddenAct = f.stringOr("hidden_activation", f.stringOr("hidden_act", "gelu_pytorch_tanh"));
    c.tieWordEmbeddings = f.boolOr("tie_word_embeddings", true);
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
    c.queryPreAttnScalar = f.numberOr("query_pre_attn_scalar", double(c.headDim));
    if (c.queryPreAttnScalar <= 0)
        fail(source + ": query_pre_attn_scalar must be positive");
}

} // namespace ft::model
