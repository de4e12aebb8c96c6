// SmolLM3 (SmolLM3-3B; transformers' modeling_smollm3.py): Llama's block in which
// some layers use no positional encoding at all (NoPE). no_rope_layers[i] = 1 means
// layer i DOES apply RoPE (the name is inverted); without the list, every
// no_rope_layer_interval-th layer (1-based: layers 3, 7, 11 ... at the default 4) is
// NoPE. Biases follow attention_bias / mlp_bias as in Llama; a sliding window applies
// to the layers layer_types marks when use_sliding_window is true.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

namespace ft::model {

namespace {

void parseSmolLM3(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
    c.ropeLayers.clear();
    if (j.contains("no_rope_layers") && !j["no_rope_layers"].is_null()) {
        const auto& list = j["no_rope_layers"];
        if (!list.is_array() || int64_t(list.size()) != c.numHiddenLayers)
            fail(source + ": no_rope_layers must list one 0 or 1 per layer (" + std::to_string(c.numHiddenLayers) +
                 "), found " + list.dump());
        for (const auto& v : list) {
            if (!v.is_number_integer() || (v.get<int64_t>() != 0 && v.get<int64_t>() != 1))
                fail(source + ": no_rope_layers holds " + v.dump() + "; expected 0 (NoPE) or 1 (RoPE)");
            c.ropeLayers.push_back(v.get<int64_t>() == 1);
        }
    } else {
        const int64_t interval = f.positiveIntOr("no_rope_layer_interval", 4);
        for (int64_t i = 0; i < c.numHiddenLayers; ++i)
            c.ropeLayers.push_back((i + 1) % interval != 0);
    }
    if (f.boolOr("use_sliding_window", false) && j.contains("sliding_window") && !j["sliding_window"].is_null()) {
        c.slidingWindow = f.positiveInt("sliding_window");
        c.slidingLayers.assign(size_t(c.numHiddenLayers), false);
        if (j.contains("layer_types") && j["layer_types"].is_array() && int64_t(j["layer_types"].size()) == c.numHiddenLayers)
            for (size_t i = 0; i < j["layer_types"].size(); ++i)
                c.slidingLayers[i] = j["layer_types"][i] == "sliding_attention";
    }
}

void writeSmolLM3(const ModelConfig& c, nlohmann::json& j)
{
    j["attention_bias"] = c.attentionBias;
    nlohmann::json rope = nlohmann::json::array();
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        rope.push_back(c.layerUsesRope(i) ? 1 : 0);
    j["no_rope_layers"] = rope;
    j["use_sliding_window"] = bool(c.slidingWindow);
    j["sliding_window"] = c.slidingWindow ? nlohmann::json(*c.slidingWindow) : nlohmann::json(nullptr);
    if (c.slidingWindow) {
        nlohmann::json types = nlohmann::json::array();
        for (int64_t i = 0; i < c.numHiddenLayers; ++i)
            types.push_back(c.layerIsSliding(i) ? "sliding_attention" : "full_attention");
        j["layer_types"] = types;
    }
}

} // namespace

const Architecture& smolLM3Architecture()
{
    static const Architecture a{.arch = Arch::SmolLM3,
                                .modelType = "smollm3",
                                .className = "SmolLM3ForCausalLM",
                                .parseFields = parseSmolLM3,
                                .writeFields = writeSmolLM3};
    return a;
}

} // namespace ft::model
