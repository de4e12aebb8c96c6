#include "peft/registry.h"

#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"
#include "peft/selective.h"
#include "peft/targets.h"
#include "peft/technique.h"
#include "util/error.h"

#include <map>

namespace ft::peft {

namespace {

// The tuners: the torch side of the techniques, by the name a descriptor's `tuner`
// gives (technique.h). Each wraps a model for every technique that names it.
const std::map<std::string, Tuner>& tuners()
{
    static const std::map<std::string, Tuner> list = {
        {"lora", applyLora},         {"pissa", applyPissa},       {"ia3", applyIa3},
        {"adapter", applyBottleneckAdapter}, {"prefix", applyPrefixTuning}, {"prompt", applyPromptTuning},
        {"ptuning", applyPTuning},   {"bitfit", applyBitFit},     {"freeze", applyFreeze},
        {"full", applyFull},
    };
    return list;
}

} // namespace

Tuner tuner(const Technique& t)
{
    const auto it = tuners().find(t.tuner);
    if (it == tuners().end())
        fail("technique '" + t.name + "' names tuner '" + t.tuner + "', which peft/registry.cpp does not list");
    return it->second;
}

std::unique_ptr<Adapter> applyTechnique(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                        const ApplyContext& context)
{
    const Technique& t = technique(settings.technique);
    freezeAll(*model);
    std::unique_ptr<Adapter> adapter = tuner(t)(model, settings, name, context);
    for (auto& [_, tensor] : adapter->trainableParameters())
        tensor.set_requires_grad(true);
    return adapter;
}

} // namespace ft::peft
