// The descriptors of GRPO and RLVR (GRPO whose rewards are the rows' verifiers); their
// trainer: grpo_objective.cpp.
#include "align/objective_schema.h"

namespace ft::align {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using data::DatasetKind;
using Type = util::SettingSpec::Type;

namespace {

std::vector<util::SettingSpec> grpoSpecs(bool rewardModel)
{
    std::vector<util::SettingSpec> specs = {
        templateSpec(),
        {.key = "num_generations", .type = Type::Int, .defaultValue = 8, .min = 2.0, .max = 256.0,
         .label = "Completions per prompt", .help = "G: the group whose rewards are normalized together."},
        {.key = "max_new_tokens", .type = Type::Int, .defaultValue = 32, .min = 1.0, .label = "Max new tokens",
         .help = "Longest sampled completion."},
        {.key = "temperature", .type = Type::Number, .defaultValue = 1.0, .min = 0.05, .max = 5.0,
         .label = "Temperature", .help = "Sampling temperature of the rollouts."},
        {.key = "top_p", .type = Type::Number, .defaultValue = 1.0, .min = 0.01, .max = 1.0, .label = "Top-p",
         .help = "Nucleus sampling of the rollouts; 1 = off."},
        {.key = "beta", .type = Type::Number, .defaultValue = 0.04, .min = 0.0, .label = "KL coefficient",
         .help = "Weight of the k3 KL penalty to the reference model (the base with the adapter disabled; with full or "
                 "freeze fine-tuning a frozen copy of the starting weights); 0 = none."},
        {.key = "epsilon", .type = Type::Number, .defaultValue = 0.2, .min = 0.0, .max = 1.0, .label = "Clip epsilon",
         .help = "The ratio is clipped to [1 - epsilon, 1 + epsilon_high]."},
        {.key = "epsilon_high", .type = Type::Number, .defaultValue = 0.0, .min = 0.0, .max = 1.0,
         .label = "Upper clip epsilon", .help = "0 = the same as epsilon (DAPO raises it, e.g. 0.28)."},
        {.key = "iterations", .type = Type::Int, .defaultValue = 1, .min = 1.0, .max = 16.0,
         .label = "Iterations per batch", .help = "Optimizer steps on each batch of rollouts (mu)."},
        {.key = "scale_rewards", .type = Type::Bool, .defaultValue = true, .label = "Scale rewards",
         .help = "Divide advantages by the group's standard deviation (false: Dr. GRPO)."},
        {.key = "loss_normalization", .type = Type::Choice, .defaultValue = "sequence", .choices = {"sequence", "token"},
         .label = "Loss normalization", .help = "sequence: mean per completion (GRPO); token: over all tokens (DAPO)."},
        {.key = "verifier", .type = Type::String, .defaultValue = "", .label = "Verifier override",
         .help = "A verifier name used for every row instead of the row's own; empty = the row's."},
    };
    if (rewardModel)
        specs.push_back({.key = "reward_model", .type = Type::String, .defaultValue = "", .label = "Reward model",
                         .help = "A reward model folder (objective \"reward\") to score completions instead of verifiers."});
    return specs;
}

} // namespace

const ObjectiveSchema& grpoSchema()
{
    static const ObjectiveSchema s{
        .name = "grpo",
        .label = "GRPO",
        .help = "Group relative policy optimization: sampled completions per prompt scored by the rows' verifiers "
                "or a reward model, group-normalized advantages, clipped ratio, KL to the reference.",
        .dataKinds = {DatasetKind::Verifiable, DatasetKind::Instruction, DatasetKind::Preference},
        .settings = grpoSpecs(true)};
    return s;
}

const ObjectiveSchema& rlvrSchema()
{
    static const ObjectiveSchema s{
        .name = "rlvr",
        .label = "RLVR",
        .help = "Reinforcement learning with verifiable rewards: GRPO whose rewards come from each row's verifier "
                "(exact match, numeric, regex, JSON schema, format, length, composite).",
        .dataKinds = {DatasetKind::Verifiable},
        .settings = grpoSpecs(false)};
    return s;
}

#pragma GCC diagnostic pop

} // namespace ft::align
