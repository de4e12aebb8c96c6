// The settings of every parameter-efficient technique in one struct, read from a
// run config's "technique" object or from an adapter_config.json. Which fields a
// technique uses is said by its schema (settingsSchema()), which the run config
// validator and the GUI's technique form are built from.
#pragma once

#include "util/settings_schema.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::peft {

struct PeftSettings {
    // lora, dora, rslora, qlora, ia3, adapter, prefix, prompt, ptuning, bitfit, freeze, full
    std::string technique = "lora";
    std::vector<std::string> targetModules;  // empty = the technique's default; "all-linear" = every projection
    uint64_t seed = 0;                        // initialization of the adapter's weights

    // LoRA family (lora, dora, rslora, qlora)
    int64_t r = 8;
    double loraAlpha = 16.0;
    double loraDropout = 0.05;
    bool useRslora = false;  // scaling alpha / sqrt(r) instead of alpha / r
    bool useDora = false;
    // QLoRA: frozen base projections in NF4
    int64_t quantBlockSize = 64;
    bool doubleQuant = true;
    // IA3
    std::vector<std::string> feedforwardModules;  // empty = {"down_proj"}; scaled at their input
    // bottleneck adapters
    int64_t adapterSize = 16;               // bottleneck width
    std::string adapterPlacement = "houlsby";  // houlsby (after attention and MLP) | pfeiffer (after MLP)
    std::string adapterActivation = "relu";    // relu | gelu | silu
    // prefix, prompt and P-tuning
    int64_t numVirtualTokens = 20;
    bool prefixProjection = false;             // prefix: reparameterization MLP
    int64_t encoderHiddenSize = 128;           // prefix projection / P-tuning encoder width
    std::string encoderType = "mlp";           // ptuning: mlp | lstm
    int64_t encoderNumLayers = 2;
    double encoderDropout = 0.0;
    std::string promptInit = "random";         // prompt: random | text
    std::string promptInitText;
    // freeze
    int64_t trainableLayers = 2;  // the last N decoder layers train
    bool trainEmbeddings = false;
    bool trainLmHead = false;

    std::string baseModelNameOrPath;
    // Values of the settings a technique declares itself (Technique::ownSettings), by key.
    nlohmann::json extra = nlohmann::json::object();
};

const std::vector<std::string>& techniqueNames();
// Every technique's settings; "technique" itself is the first entry (a choice).
const std::vector<util::SettingSpec>& settingsSchema();

// Reads a run config's "technique" object; problems appended to `errors` with
// their path under `path` (e.g. "technique.r"). Defaults fill absent keys.
PeftSettings settingsFromJson(const nlohmann::json& j, const std::string& path, std::vector<std::string>& errors);
nlohmann::json settingsToJson(const PeftSettings& s);

// The modules a technique adapts when targetModules is empty.
std::vector<std::string> defaultTargets(const std::string& technique);

} // namespace ft::peft
