// What one training objective declares about itself, beside its trainer: its name,
// label and help, the dataset kinds it trains on, and its settings (spec with
// defaults, ranges, help). Each objective's descriptor file (align/<name>_schema.cpp,
// train/sft_schema.cpp) defines `const ObjectiveSchema& fooSchema()`;
// train/objectives.cpp is the one list, read by the run-config validator, `train
// --schema` and the GUI's objective form. Torch-free (library objective_schema); the
// trainers are listed by name in engine/objective_registry.cpp.
#pragma once

#include "data/records.h"
#include "util/settings_schema.h"

#include <string>
#include <vector>

namespace ft::align {

struct ObjectiveSchema {
    std::string name;
    std::string label;
    std::string help;
    std::vector<data::DatasetKind> dataKinds;  // the dataset kinds it trains on
    std::vector<util::SettingSpec> settings;   // without "name"
};

// Settings several objectives share: the prompt template (alpaca, chatml, plain) and
// beta, the strength of the implicit reward / KL regularization, with its default.
util::SettingSpec templateSpec();
util::SettingSpec betaSpec(double value);

} // namespace ft::align
