// The tables behind the run config: each section's SettingSpecs and the registry
// of objectives, shared by the parser (run_config.cpp) and the schema JSON
// (runConfigSchema, defined here). Internal to core/train; callers use run_config.h.
#pragma once

#include "train/run_config.h"

#include <string>
#include <vector>

namespace ft::train::detail {

// Keys of the file itself, then the object-valued sections by JSON path: data,
// training, training.optimizer, training.schedule, eval, checkpoint, samples.
const std::vector<util::SettingSpec>& rootSpecs();
const std::vector<util::SettingSpec>& dataSpecs();
const std::vector<util::SettingSpec>& trainingSpecs();
const std::vector<util::SettingSpec>& optimizerSpecs();
const std::vector<util::SettingSpec>& scheduleSpecs();
const std::vector<util::SettingSpec>& evalSpecs();
const std::vector<util::SettingSpec>& checkpointSpecs();
const std::vector<util::SettingSpec>& samplesSpecs();
const std::vector<util::SettingSpec>& distributedSpecs();
// nullptr for paths without a table of their own here (technique, objective).
const std::vector<util::SettingSpec>* sectionSpecs(const std::string& path);

// "objective.name": a choice of the registered objectives.
util::SettingSpec objectiveNameSpec();

} // namespace ft::train::detail
