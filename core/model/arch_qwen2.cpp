// Qwen2 / Qwen2.5: Llama's block with biases on q, k and v (never on o), usually
// tied embeddings on the small sizes. Its per-layer sliding window (layers from
// max_window_layers on) is not run: configs that would window a layer are refused.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

#include "util/error.h"

namespace ft::model {

namespace {

void parseQwen2(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = true;
    c.attentionOutBias = false;
    if (f.boolOr("use_sliding_window", false) && j.contains("sliding_window") && !j["sliding_window"].is_null()) {
        // Qwen2 windows only the layers from max_window_layers on; with none of them
        // windowed the model is exactly full attention, otherwise it is refused.
        const int64_t windowFrom = f.positiveIntOr("max_window_layers", 28);
        if (windowFrom < c.numHiddenLayers)
            fail(source + ": use_sliding_window is true and max_window_layers (" + std::to_string(windowFrom) +
                 ") < num_hidden_layers (" + std::to_string(c.numHiddenLayers) +
                 "): Qwen2's per-layer sliding window is not supported; set use_sliding_window to false to run "
                 "every layer with full attention (as Qwen2 checkpoints ship)");
    }
}

void writeQwen2(const ModelConfig&, nlohmann::json&) {}

} // namespace

const Architecture& qwen2Architecture()
{
    static const Architecture a{.arch = Arch::Qwen2,
                                .modelType = "qwen2",
                                .className = "Qwen2ForCausalLM",
                                .traits = {.qkvBias = true},
                                .parseFields = parseQwen2,
                                .writeFields = writeQwen2};
    return a;
}

} // namespace ft::model
