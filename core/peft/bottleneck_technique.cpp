// The bottleneck adapters' descriptor (the tuner: peft/bottleneck_adapter.cpp).
#include "peft/bottleneck_technique.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

// The projections whose outputs the adapters follow: attention's output (Houlsby) and
// the MLP's down projection; in a mixture of experts each expert's (w2 in Mixtral), so
// the router weighs the adapter with its expert.
std::vector<std::string> bottleneckTargets(const std::string& placement)
{
    if (placement == "houlsby")
        return {"o_proj", "down_proj", "w2"};
    return {"down_proj", "w2"};
}

namespace {

// Per site: down (C -> S) and up (S -> C), each with a bias.
TechniqueEstimate estimateBottleneck(const model::ModelConfig& c, const PeftSettings& s)
{
    TechniqueEstimate e;
    for (const ProjectionShape& p : selectShapes(c, bottleneckTargets(s.adapterPlacement)))
        e.added += 2 * p.out * s.adapterSize + s.adapterSize + p.out;
    return e;
}

} // namespace

const Technique& bottleneckAdapterTechnique()
{
    static const Technique t{.name = "adapter",
                             .summary = "Bottleneck adapters (Houlsby / Pfeiffer) after the transformer sublayers",
                             .peftType = "BOTTLENECK_ADAPTER",
                             .settings = {"adapter_size", "adapter_placement", "adapter_activation"},
                             .tuner = "adapter",
                             .estimate = estimateBottleneck};
    return t;
}

} // namespace ft::peft
