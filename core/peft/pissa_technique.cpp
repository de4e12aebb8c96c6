// PiSSA's descriptor (the tuner: peft/pissa.cpp): LoRA's settings and file layout,
// a different start.
#include "peft/technique.h"

namespace ft::peft {

namespace {

TechniqueEstimate estimatePissa(const model::ModelConfig& config, const PeftSettings& settings)
{
    return technique("lora").estimate(config, settings);  // A and B train; A0 and B0 are as many frozen values
}

} // namespace

const Technique& pissaTechnique()
{
    static const Technique t{
        .name = "pissa",
        .summary = "PiSSA: LoRA started from the weight's principal singular vectors; saved as plain LoRA",
        .peftType = "LORA",
        .settings = {"target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora"},
        .ownSettings = {{.key = "pissa_niter", .type = util::SettingSpec::Type::Int, .defaultValue = 0, .min = 0,
                         .max = 64, .label = "SVD iterations",
                         .help = "0: exact SVD of each targeted weight (PEFT's \"pissa\"); N > 0: the fast randomized "
                                 "SVD with N subspace iterations (PEFT's \"pissa_niter_N\"; 4 to 16 for large models)."}},
        .defaultTargets = {"q_proj", "k_proj", "v_proj", "o_proj"},
        .tuner = "pissa",
        .estimate = estimatePissa};
    return t;
}

} // namespace ft::peft
