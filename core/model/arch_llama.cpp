// Llama (Llama 2, Llama 3/3.1, TinyLlama, SmolLM ...): the reference family. Its block
// is model/llama.cpp; its own config.json fields are the optional biases.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

namespace ft::model {

namespace {

// attention_bias puts biases on q, k, v and o alike.
void parseLlama(const nlohmann::json&, const FieldReader& f, ModelConfig& c, const std::string&)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
}

void writeLlama(const ModelConfig& c, nlohmann::json& j) { j["attention_bias"] = c.attentionBias; }

} // namespace

const Architecture& llamaArchitecture()
{
    static const Architecture a{.arch = Arch::Llama,
                                .modelType = "llama",
                                .className = "LlamaForCausalLM",
                                .parseFields = parseLlama,
                                .writeFields = writeLlama};
    return a;
}

} // namespace ft::model
