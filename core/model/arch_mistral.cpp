// Mistral: Llama's block with a sliding attention window over recent keys (every
// layer; keys older than sliding_window positions are masked, also in the KV cache).
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

namespace ft::model {

namespace {

void parseMistral(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string&)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
    if (f.boolOr("use_sliding_window", true)) {
        // Hugging Face's MistralConfig defaults to 4096 when the key is absent; null means none.
        if (!j.contains("sliding_window"))
            c.slidingWindow = 4096;
        else if (!j["sliding_window"].is_null())
            c.slidingWindow = f.positiveInt("sliding_window");
    }
}

void writeMistral(const ModelConfig& c, nlohmann::json& j)
{
    j["attention_bias"] = c.attentionBias;
    j["sliding_window"] = c.slidingWindow ? nlohmann::json(*c.slidingWindow) : nlohmann::json(nullptr);
}

} // namespace

const Architecture& mistralArchitecture()
{
    static const Architecture a{.arch = Arch::Mistral,
                                .modelType = "mistral",
                                .className = "MistralForCausalLM",
                                .traits = {.slidingWindow = true},
                                .parseFields = parseMistral,
                                .writeFields = writeMistral};
    return a;
}

} // namespace ft::model
