// Prefix tuning's descriptor (the tuner: peft/prefix_tuning.cpp).
#include "peft/config_fields.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

namespace {

// N virtual key/value positions per layer (L·2·K·D values each); with the projection,
// one K·D-wide token per position through Linear(K·D, h), tanh, Linear(h, L·2·K·D).
TechniqueEstimate estimatePrefix(const model::ModelConfig& c, const PeftSettings& s)
{
    const int64_t N = s.numVirtualTokens, KD = c.numKeyValueHeads * c.headDim, kv = c.numHiddenLayers * 2 * KD;
    if (!s.prefixProjection)
        return {.added = N * kv};
    const int64_t h = s.encoderHiddenSize;
    return {.added = N * KD + KD * h + h + h * kv + kv};
}

void readPeftPrefix(const nlohmann::json& j, const std::string& file, PeftSettings& s)
{
    s.technique = "prefix";
    s.numVirtualTokens = configField<int64_t>(j, "num_virtual_tokens", 20, file);
    s.prefixProjection = configField<bool>(j, "prefix_projection", false, file);
    s.encoderHiddenSize = configField<int64_t>(j, "encoder_hidden_size", s.encoderHiddenSize, file);
}

} // namespace

const Technique& prefixTuningTechnique()
{
    static const Technique t{.name = "prefix",
                             .summary = "Prefix tuning: learned key/value prefixes in every layer",
                             .peftType = "PREFIX_TUNING",
                             .settings = {"num_virtual_tokens", "prefix_projection", "encoder_hidden_size"},
                             .tuner = "prefix",
                             .estimate = estimatePrefix,
                             .readPeftConfig = readPeftPrefix};
    return t;
}

} // namespace ft::peft
