// OLMo 2 (1B, 7B, 13B, 32B; transformers' modeling_olmo2.py): the OLMo 2 layer
// (model/olmo2_block.h: norms after attention and after the MLP, no input norm) with
// RMSNorm over the whole q and k projections before RoPE, no biases, untied
// embeddings, Llama's RoPE (and its scaling types).
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

namespace ft::model {

namespace {

void parseOlmo2(const nlohmann::json&, const FieldReader& f, ModelConfig& c, const std::string&)
{
    c.attentionBias = c.attentionOutBias = f.boolOr("attention_bias", false);
}

void writeOlmo2(const ModelConfig& c, nlohmann::json& j) { j["attention_bias"] = c.attentionBias; }

} // namespace

const Architecture& olmo2Architecture()
{
    static const Architecture a{.arch = Arch::Olmo2,
                                .modelType = "olmo2",
                                .className = "Olmo2ForCausalLM",
                                .traits = {.olmo2Block = true},
                                .parseFields = parseOlmo2,
                                .writeFields = writeOlmo2};
    return a;
}

} // namespace ft::model
