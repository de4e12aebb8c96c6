// BitFit's descriptor (the tuner: peft/bitfit.cpp).
#include "peft/config_fields.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

namespace {

// Every targeted projection gets a trained bias of its own: zeros where it had none,
// a copy of the base's bias (which stays, frozen, for unmerge) where it had one.
TechniqueEstimate estimateBitFit(const model::ModelConfig& c, const PeftSettings& s)
{
    TechniqueEstimate e;
    for (const ProjectionShape& p : selectShapes(c, targetsOrDefault(s, c)))
        e.added += p.out;
    return e;
}

} // namespace

const Technique& bitFitTechnique()
{
    static const Technique t{.name = "bitfit",
                             .summary = "BitFit: only bias terms train (zero biases added where there are none)",
                             .peftType = "BITFIT",
                             .settings = {"target_modules"},
                             .defaultTargets = {"all-linear"},
                             .tuner = "bitfit",
                             .estimate = estimateBitFit};
    return t;
}

} // namespace ft::peft
