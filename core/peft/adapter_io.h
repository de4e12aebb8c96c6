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
#include "peft/adapter_config.h"

#include <string>

namespace ft::peft {

// Writes both files atomically into `dir` (created if needed); tensors stored as `dtype`.
void saveAdapter(const std::string& dir, Adapter& adapter, const std::string& baseModel,
                 c10::ScalarType dtype = c10::kFloat);

// Applies the adapter in DIR to `model` under `name` and loads its tensors. Every
// mismatch with the base (missing targets, shapes) is reported in one error.
std::unique_ptr<Adapter> loadAdapter(const std::string& dir, model::CausalLM& model, const std::string& name = "default",
                                     const ApplyContext& context = {});

} // namespace ft::peft
