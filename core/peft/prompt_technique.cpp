// The descriptors of prompt tuning and P-tuning (the tuners: peft/prompt_tuning.cpp).
#include "peft/config_fields.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

namespace {

TechniqueEstimate estimatePrompt(const model::ModelConfig& c, const PeftSettings& s)
{
    return {.added = s.numVirtualTokens * c.hiddenSize};
}

// The virtual tokens plus the encoder: an MLP Linear(C, h), ReLU, Linear(h, h), ReLU,
// Linear(h, C); or a bidirectional LSTM (4 gates, two bias vectors; later layers read
// both directions) then Linear(2h, 2h), ReLU, Linear(2h, C).
TechniqueEstimate estimatePTuning(const model::ModelConfig& c, const PeftSettings& s)
{
    const int64_t C = c.hiddenSize, h = s.encoderHiddenSize;
    int64_t encoder = 0;
    if (s.encoderType == "lstm") {
        for (int64_t l = 0; l < s.encoderNumLayers; ++l)
            encoder += 2 * (4 * h * (l == 0 ? C : 2 * h) + 4 * h * h + 8 * h);
        encoder += 2 * h * 2 * h + 2 * h + 2 * h * C + C;
    } else {
        encoder = C * h + h + h * h + h + h * C + C;
    }
    return {.added = s.numVirtualTokens * C + encoder};
}

void readPeftPrompt(const nlohmann::json& j, const std::string& file, PeftSettings& s)
{
    s.technique = "prompt";
    s.numVirtualTokens = configField<int64_t>(j, "num_virtual_tokens", 20, file);
}

void readPeftPTuning(const nlohmann::json& j, const std::string& file, PeftSettings& s)
{
    s.technique = "ptuning";
    s.numVirtualTokens = configField<int64_t>(j, "num_virtual_tokens", 20, file);
    const std::string encoder = configField<std::string>(j, "encoder_reparameterization_type", "MLP", file);
    s.encoderType = encoder == "LSTM" ? "lstm" : "mlp";
    s.encoderHiddenSize = configField<int64_t>(j, "encoder_hidden_size", s.encoderHiddenSize, file);
    s.encoderNumLayers = configField<int64_t>(j, "encoder_num_layers", s.encoderNumLayers, file);
    s.encoderDropout = configField<double>(j, "encoder_dropout", s.encoderDropout, file);
}

} // namespace

const Technique& promptTuningTechnique()
{
    static const Technique t{.name = "prompt",
                             .summary = "Prompt tuning: learned virtual tokens before the input",
                             .peftType = "PROMPT_TUNING",
                             .settings = {"num_virtual_tokens", "prompt_init", "prompt_init_text"},
                             .tuner = "prompt",
                             .estimate = estimatePrompt,
                             .readPeftConfig = readPeftPrompt};
    return t;
}

const Technique& pTuningTechnique()
{
    static const Technique t{.name = "ptuning",
                             .summary = "P-tuning: virtual tokens produced by a prompt encoder (MLP or LSTM)",
                             .peftType = "P_TUNING",
                             .settings = {"num_virtual_tokens", "encoder_hidden_size", "encoder_type",
                                          "encoder_num_layers", "encoder_dropout"},
                             .tuner = "ptuning",
                             .estimate = estimatePTuning,
                             .readPeftConfig = readPeftPTuning};
    return t;
}

} // namespace ft::peft
