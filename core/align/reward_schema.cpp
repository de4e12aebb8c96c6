// The reward model objective's descriptor (its trainer: reward_objective.cpp).
#include "align/objective_schema.h"

namespace ft::align {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using data::DatasetKind;
using Type = util::SettingSpec::Type;

const ObjectiveSchema& rewardSchema()
{
    static const ObjectiveSchema s{
        .name = "reward",
        .label = "Reward model",
        .help = "Scalar score head on the last token; Bradley-Terry loss on chosen/rejected pairs.",
        .dataKinds = {DatasetKind::Preference},
        .settings = {templateSpec(),
                     {.key = "margin_scale", .type = Type::Number, .defaultValue = 1.0, .min = 0.0,
                      .label = "Margin scale",
                      .help = "Multiplies a row's optional 'margin' field (Llama 2's margin loss); 0 ignores it."}}};
    return s;
}

#pragma GCC diagnostic pop

} // namespace ft::align
