// Adapters on disk in the PEFT layout, so other tools load them unchanged:
// adapter_config.json (peft_type, task_type, base_model_name_or_path and the
// technique's own fields) + adapter_model.safetensors (PEFT key names). Techniques
// PEFT has no type for (bottleneck adapters, BitFit) use the same two files with
// peft_type BOTTLENECK_ADAPTER / BITFIT. Our exact settings also ride along under
// "ftstudio" so a round trip restores every option; a folder written by PEFT
// itself (no such block) is read from PEFT's fields.
// Not here: full-model folders (model_io.h), the techniques (one file each).
#pragma once

#include "peft/adapter.h"

#include <string>

namespace ft::peft {

// Writes both files atomically into `dir` (created if needed); tensors stored as `dtype`.
void saveAdapter(const std::string& dir, Adapter& adapter, const std::string& baseModel,
                 c10::ScalarType dtype = c10::kFloat);

// Reads DIR/adapter_config.json into settings; ft::Error naming the file and field
// for an unknown peft_type or a field of the wrong type.
PeftSettings readAdapterSettings(const std::string& dir);
nlohmann::json readAdapterConfig(const std::string& dir);

// A module path inside a multimodal model, as either transformers layout names it
// ("model.language_model.layers.0.mlp.up_proj", before 4.52
// "language_model.model.layers.0.mlp.up_proj"), as the text model names it
// ("model.layers.0.mlp.up_proj"); any other path unchanged.
std::string textModulePath(const std::string& path);

// Applies the adapter in DIR to `model` under `name` and loads its tensors. Every
// mismatch with the base (missing targets, shapes) is reported in one error.
std::unique_ptr<Adapter> loadAdapter(const std::string& dir, model::CausalLM& model, const std::string& name = "default",
                                     const ApplyContext& context = {});

} // namespace ft::peft
