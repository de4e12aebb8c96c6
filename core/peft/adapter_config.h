// An adapter folder's adapter_config.json read into settings, without loading a
// tensor: our own exact settings when the "ftstudio" block is there (a round trip
// restores every option), otherwise PEFT's own fields, read by the technique of that
// peft_type (technique.h, readPeftConfig). Writing the file and the weights:
// peft/adapter_io.h.
#pragma once

#include "peft/peft_settings.h"

#include <nlohmann/json.hpp>

#include <string>

namespace ft::peft {

// Reads DIR/adapter_config.json into settings; ft::Error naming the file and field
// for an unknown peft_type or a field of the wrong type.
PeftSettings readAdapterSettings(const std::string& dir);
nlohmann::json readAdapterConfig(const std::string& dir);
// The same from the file's parsed contents; `file` names it in errors.
PeftSettings adapterSettingsFromConfig(const nlohmann::json& config, const std::string& file);

// A module path inside a multimodal model, as either transformers layout names it
// ("model.language_model.layers.0.mlp.up_proj", before 4.52
// "language_model.model.layers.0.mlp.up_proj"), as the text model names it
// ("model.layers.0.mlp.up_proj"); any other path unchanged.
std::string textModulePath(const std::string& path);

} // namespace ft::peft
