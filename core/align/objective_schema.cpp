#include "align/objective_schema.h"

namespace ft::align {

using Type = util::SettingSpec::Type;

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

util::SettingSpec templateSpec()
{
    return {.key = "template", .type = Type::Choice, .defaultValue = "alpaca", .choices = {"alpaca", "chatml", "plain"},
            .label = "Prompt template", .help = "How prompts and responses become text (as in SFT)."};
}

util::SettingSpec betaSpec(double value)
{
    return {.key = "beta", .type = Type::Number, .defaultValue = value, .min = 0.0, .label = "Beta",
            .help = "Strength of the implicit reward / KL regularization."};
}

#pragma GCC diagnostic pop

} // namespace ft::align
