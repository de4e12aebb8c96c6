// Qwen2 / Qwen2.5: Llama's block with biases on q, k and v (never on o), usually
// tied embeddings on the small sizes. Its per-layer sliding window (layers from
// max_window_layers on) is not run: configs that would window a layer are refused.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

namespace ft::model {

namespace {

void parseQwen2(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    c.attentionBias = true;
    c.attentionOutBias = false;
    refuseWindowedLayers(j, f, c.numHiddenLayers, "Qwen2", source);
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
