// What one parameter-efficient technique declares about itself, in its own file
// (lora.cpp, ia3.cpp ...); registry.cpp is the one list of them. Everything that
// varies by technique is read from here and nowhere else:
//   - which settings apply (settingsSchema(), the run-config validator, `train
//     --schema` and the GUI's technique form),
//   - the modules it adapts by default,
//   - which tuner wraps a model for it (the torch side, peft/registry.cpp: LoRA's
//     wrapper serves lora, dora, rslora, qlora and loraplus),
//   - adapter files: its PEFT peft_type and how PEFT's own adapter_config.json
//     fields read back into settings,
//   - its trainable-parameter count from the model's shapes alone (the memory
//     estimate before a run, `train --estimate`, the GUI's preview).
// Adding a technique: its descriptor file peft/<name>_technique.cpp defines
// `const Technique& fooTechnique()` and techniques.cpp lists it; a technique that
// needs a wrapper no tuner has yet also adds one (peft/<tuner>.cpp, a line in
// registry.cpp). docs/architecture.md. The descriptors are torch-free (library
// `technique`): the run-config checks, the estimate, adapter_config.json and the GUI
// use them without libtorch.
#pragma once

#include "peft/peft_settings.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::model {
struct ModelConfig;
} // namespace ft::model

namespace ft::peft {

// A technique's parameters as counted from the model's shapes.
struct TechniqueEstimate {
    int64_t added = 0;           // parameters the technique adds to the model (all train)
    int64_t trainedInPlace = 0;  // base parameters that train (BitFit's existing biases, freeze, full)
    // Frozen base parameters the technique stores quantized (QLoRA's NF4 projections)
    // and their bytes per parameter, scales included; the rest stay in the run's dtype.
    int64_t quantizedParameters = 0;
    double quantizedBytesPerParameter = 0;
};

struct Technique {
    using EstimateFn = TechniqueEstimate (*)(const model::ModelConfig& config, const PeftSettings& settings);
    // Fills `settings` (technique included) from a PEFT adapter_config.json of this
    // technique's peft_type; ft::Error naming `file` and the field on a bad value.
    using ReadPeftFn = void (*)(const nlohmann::json& config, const std::string& file, PeftSettings& settings);
    // The factor on the learning rate of one trainable tensor (named as in
    // Adapter::trainableParameters()); nullptr: 1 for every tensor.
    using LearningRateScaleFn = double (*)(const PeftSettings& settings, const std::string& tensorName);

    std::string name;                         // technique.name in a run config
    std::string summary;                      // one line, for --help and the schema
    std::string peftType;                     // adapter_config.json's peft_type; "" when it saves a whole model
    std::vector<std::string> settings;        // keys of settingsSchema() it uses (besides name and seed)
    // Settings only this technique has, declared here rather than in peft_settings.cpp;
    // their values are in PeftSettings::extra under their keys.
    std::vector<util::SettingSpec> ownSettings;
    std::vector<std::string> defaultTargets;  // what target_modules means when empty
    std::string tuner;                        // the wrapper that applies it (peft/registry.cpp's list)
    EstimateFn estimate = nullptr;
    ReadPeftFn readPeftConfig = nullptr;      // nullptr: not read from PEFT's fields (another technique of
                                              // the same peft_type reads them, or only ours writes the type)
    LearningRateScaleFn learningRateScale = nullptr;
};

// Every technique, in the order menus show them.
const std::vector<const Technique*>& techniques();
// nullptr when no technique has that name.
const Technique* findTechnique(const std::string& name);
// The technique or an ft::Error listing the known ones.
const Technique& technique(const std::string& name);

} // namespace ft::peft
