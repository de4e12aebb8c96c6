// Gemma 2 (2B, 9B, 27B; transformers' modeling_gemma2.py): the Gemma block
// (model/gemma_block.h: (1 + w) RMSNorms around attention and MLP, embeddings scaled
// by sqrt(hidden)), gated GELU with the tanh approximation, scores scaled by
// 1/sqrt(query_pre_attn_scalar) and soft-capped (attn_logit_softcapping), final
// logits soft-capped (final_logit_softcapping), sliding-window attention on every
// other layer (layer_types, else layers 0, 2, 4 ...), tied embeddings.
#include "model/architecture.h"
#include "model/config_fields.h"
#include "model/gemma_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

namespace ft::model {

namespace {

void parseGemma2(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source)
{
    readGemmaCommon(f, c, source);
    c.attnLogitSoftcap = f.numberOr("attn_logit_softcapping", 0.0);
    c.finalLogitSoftcap = f.numberOr("final_logit_softcapping", 0.0);
    if (c.attnLogitSoftcap < 0 || c.finalLogitSoftcap < 0)
        fail(source + ": soft-capping values must be positive (or null)");
    c.slidingWindow = f.positiveIntOr("sliding_window", 4096);
    c.slidingLayers = gemmaSlidingLayers(j, c.numHiddenLayers, 2, source);
}

void writeGemma2(const ModelConfig& c, nlohmann::json& j)
{
    j["hidden_activation"] = c.hiddenAct;
    j["attention_bias"] = c.attentionBias;
    j["query_pre_attn_scalar"] = c.queryPreAttnScalar > 0 ? c.queryPreAttnScalar : double(c.headDim);
    j["attn_logit_softcapping"] = c.attnLogitSoftcap > 0 ? nlohmann::json(c.attnLogitSoftcap) : nlohmann::json(nullptr);
    j["final_logit_softcapping"] = c.finalLogitSoftcap > 0 ? nlohmann::json(c.finalLogitSoftcap) : nlohmann::json(nullptr);
    writeGemmaLayerTypes(c, j);
}

} // namespace

const Architecture& gemma2Architecture()
{
    static const Architecture a{.arch = Arch::Gemma2,
                                .modelType = "gemma2",
                                .className = "Gemma2ForCausalLM",
                                .traits = {.slidingWindow = true, .gemmaBlock = true},
                                .parseFields = parseGemma2,
                                .writeFields = writeGemma2};
    return a;
}

} // namespace ft::model
