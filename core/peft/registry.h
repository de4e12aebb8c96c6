// Choosing a technique by name: applies it to a model (freezing everything that is
// not the technique's own) and returns the Adapter that describes it. The torch side
// of the technique descriptors (technique.h): each names its tuner, listed here.
#pragma once

#include "peft/adapter.h"
#include "peft/technique.h"

namespace ft::peft {

// Wraps `model` for a technique (settings.technique) under `name`; the descriptor's
// `tuner` chooses which one.
using Tuner = std::unique_ptr<Adapter> (*)(model::CausalLM& model, const PeftSettings& settings,
                                           const std::string& name, const ApplyContext& context);
// The tuner of `t`; ft::Error when no tuner has its name.
Tuner tuner(const Technique& t);

// Freezes the whole model, injects the technique under `name`, makes exactly the
// adapter's trainable parameters require grad. Errors name the setting at fault.
std::unique_ptr<Adapter> applyTechnique(model::CausalLM& model, const PeftSettings& settings,
                                        const std::string& name = "default", const ApplyContext& context = {});

} // namespace ft::peft
