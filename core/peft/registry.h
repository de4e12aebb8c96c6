// Choosing a technique by name: applies it to a model (freezing everything that is
// not the technique's own) and returns the Adapter that describes it.
#pragma once

#include "peft/adapter.h"

namespace ft::peft {

// Freezes the whole model, injects the technique under `name`, makes exactly the
// adapter's trainable parameters require grad. Errors name the setting at fault.
std::unique_ptr<Adapter> applyTechnique(model::CausalLM& model, const PeftSettings& settings,
                                        const std::string& name = "default", const ApplyContext& context = {});

} // namespace ft::peft
