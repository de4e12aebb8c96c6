// IA3's descriptor (the tuner: peft/ia3.cpp).
#include "peft/config_fields.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

namespace {

// One scale per output feature, or per input feature for feed-forward modules.
TechniqueEstimate estimateIa3(const model::ModelConfig& c, const PeftSettings& s)
{
    const std::vector<std::string> feedforward =
        s.feedforwardModules.empty() ? std::vector<std::string>{"down_proj"} : s.feedforwardModules;
    TechniqueEstimate e;
    for (const ProjectionShape& p : selectShapes(c, targetsOrDefault(s, c)))
        e.added += matchesTarget(p.path, p.shortName, feedforward) ? p.in : p.out;
    return e;
}

void readPeftIa3(const nlohmann::json& j, const std::string& file, PeftSettings& s)
{
    s.technique = "ia3";
    s.feedforwardModules = configStringList(j, "feedforward_modules", file);
}

} // namespace

const Technique& ia3Technique()
{
    static const Technique t{.name = "ia3",
                             .summary = "IA3: trained scales on the activations of the targeted projections",
                             .peftType = "IA3",
                             .settings = {"target_modules", "feedforward_modules"},
                             .defaultTargets = {"k_proj", "v_proj", "down_proj"},
                             .tuner = "ia3",
                             .estimate = estimateIa3,
                             .readPeftConfig = readPeftIa3};
    return t;
}

} // namespace ft::peft
