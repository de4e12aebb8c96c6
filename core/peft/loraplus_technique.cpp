// LoRA+ (Hayou, Ghosh & Yu 2024, "LoRA+: Efficient Low Rank Adaptation of Large
// Models"): plain LoRA whose B matrices learn loraplus_lr_ratio times faster than
// the A matrices (the paper's and PEFT's create_loraplus_optimizer default: 16). The
// adapter itself is ordinary LoRA, saved as peft_type LORA; only the optimizer differs,
// through the descriptor's learningRateScale.
#include "peft/technique.h"

namespace ft::peft {

namespace {

TechniqueEstimate estimateLoraPlus(const model::ModelConfig& config, const PeftSettings& settings)
{
    return technique("lora").estimate(config, settings);
}

double loraPlusScale(const PeftSettings& settings, const std::string& tensorName)
{
    return tensorName.find(".lora_B.") != std::string::npos ? settings.extra.value("loraplus_lr_ratio", 16.0) : 1.0;
}

} // namespace

const Technique& loraPlusTechnique()
{
    static const Technique t{
        .name = "loraplus",
        .summary = "LoRA+: LoRA whose B matrices train with a learning rate loraplus_lr_ratio times A's",
        .peftType = "LORA",
        .settings = {"target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora"},
        .ownSettings = {{.key = "loraplus_lr_ratio", .type = util::SettingSpec::Type::Number, .defaultValue = 16.0,
                         .min = 1, .max = 1024, .label = "B/A learning-rate ratio",
                         .help = "LoRA+: the learning rate of the B matrices is this many times that of A "
                                 "(16 in the paper; 1 is plain LoRA)."}},
        .defaultTargets = {"q_proj", "k_proj", "v_proj", "o_proj"},
        .tuner = "lora",
        .estimate = estimateLoraPlus,
        .learningRateScale = loraPlusScale};
    return t;
}

} // namespace ft::peft
