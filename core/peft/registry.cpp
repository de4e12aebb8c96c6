#include "peft/registry.h"

#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"
#include "peft/selective.h"
#include "peft/targets.h"
#include "util/error.h"

#include <map>

namespace ft::peft {

namespace {

using Factory = std::unique_ptr<Adapter> (*)(model::CausalLM&, const PeftSettings&, const std::string&,
                                            const ApplyContext&);

const std::map<std::string, Factory>& factories()
{
    static const std::map<std::string, Factory> table{
        {"lora", applyLora},         {"dora", applyLora},          {"rslora", applyLora},
        {"qlora", applyLora},        {"ia3", applyIa3},            {"adapter", applyBottleneckAdapter},
        {"prefix", applyPrefixTuning}, {"prompt", applyPromptTuning}, {"ptuning", applyPTuning},
        {"bitfit", applyBitFit},     {"freeze", applyFreeze},      {"full", applyFull},
    };
    return table;
}

} // namespace

std::unique_ptr<Adapter> applyTechnique(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                        const ApplyContext& context)
{
    const auto& table = factories();
    const auto it = table.find(settings.technique);
    if (it == table.end()) {
        std::string list;
        for (const auto& n : techniqueNames())
            list += (list.empty() ? "" : ", ") + n;
        fail("unknown technique '" + settings.technique + "'; choose one of " + list);
    }
    freezeAll(*model);
    std::unique_ptr<Adapter> adapter = it->second(model, settings, name, context);
    for (auto& [_, t] : adapter->trainableParameters())
        t.set_requires_grad(true);
    return adapter;
}

} // namespace ft::peft
