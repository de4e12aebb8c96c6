// PPO's descriptor (its trainer: ppo_objective.cpp).
#include "align/objective_schema.h"

#include <optional>

namespace ft::align {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using data::DatasetKind;
using Type = util::SettingSpec::Type;

namespace {

std::vector<util::SettingSpec> ppoSpecs()
{
    auto number = [](const char* key, double value, double min, std::optional<double> max, const char* label,
                     const char* help) {
        util::SettingSpec s{.key = key, .type = Type::Number, .defaultValue = value, .min = min, .label = label, .help = help};
        s.max = max;
        return s;
    };
    return {
        templateSpec(),
        {.key = "reward_model", .type = Type::String, .defaultValue = "", .label = "Reward model",
         .help = "A reward model folder (objective \"reward\"); empty = the rows' verifiers score completions."},
        {.key = "max_new_tokens", .type = Type::Int, .defaultValue = 32, .min = 1.0, .label = "Max new tokens",
         .help = "Longest sampled completion."},
        number("temperature", 1.0, 0.05, 5.0, "Temperature", "Sampling temperature of the rollouts."),
        number("top_p", 1.0, 0.01, 1.0, "Top-p", "Nucleus sampling of the rollouts; 1 = off."),
        {.key = "ppo_epochs", .type = Type::Int, .defaultValue = 4, .min = 1.0, .max = 32.0, .label = "PPO epochs",
         .help = "Optimizer steps on each batch of rollouts."},
        number("cliprange", 0.2, 0.0, 1.0, "Policy clip", "The probability ratio is clipped to 1 +- cliprange."),
        number("cliprange_value", 0.2, 0.0, std::nullopt, "Value clip", "Values move at most this far per batch."),
        number("vf_coef", 0.1, 0.0, std::nullopt, "Value loss weight", "Weight of the value loss."),
        number("gamma", 1.0, 0.0, 1.0, "Discount", "GAE discount gamma."),
        number("lam", 0.95, 0.0, 1.0, "GAE lambda", "GAE lambda."),
        number("kl_coef", 0.05, 0.0, std::nullopt, "KL coefficient",
               "Per-token KL penalty to the reference (the base with the adapter disabled; with full or freeze "
               "fine-tuning a frozen copy of the starting weights)."),
        {.key = "adaptive_kl", .type = Type::Bool, .defaultValue = false, .label = "Adaptive KL",
         .help = "Adjust the KL coefficient toward target_kl (Ziegler et al. 2019)."},
        number("target_kl", 6.0, 0.0, std::nullopt, "Target KL", "KL per completion the adaptive controller aims at."),
        {.key = "kl_horizon", .type = Type::Int, .defaultValue = 10000, .min = 1.0, .label = "KL horizon",
         .help = "Samples over which the adaptive controller moves the coefficient."},
        {.key = "whiten_advantages", .type = Type::Bool, .defaultValue = true, .label = "Whiten advantages",
         .help = "Normalize advantages over the batch's tokens."},
    };
}

} // namespace

const ObjectiveSchema& ppoSchema()
{
    static const ObjectiveSchema s{
        .name = "ppo",
        .label = "RLHF (PPO)",
        .help = "Proximal policy optimization against a reward model (or the rows' verifiers): per-token KL "
                "penalty to the reference, value head, GAE, clipped policy and value losses.",
        .dataKinds = {DatasetKind::Instruction, DatasetKind::Preference, DatasetKind::Verifiable},
        .settings = ppoSpecs()};
    return s;
}

#pragma GCC diagnostic pop

} // namespace ft::align
