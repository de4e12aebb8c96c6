// KTO's descriptor (its trainer: kto_objective.cpp).
#include "align/objective_schema.h"

namespace ft::align {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using data::DatasetKind;
using Type = util::SettingSpec::Type;

const ObjectiveSchema& ktoSchema()
{
    static const ObjectiveSchema s{
        .name = "kto",
        .label = "KTO",
        .help = "Kahneman-Tversky optimization on unpaired completions marked desirable or undesirable.",
        .dataKinds = {DatasetKind::Unpaired},
        .settings = {templateSpec(), betaSpec(0.1),
                     {.key = "desirable_weight", .type = Type::Number, .defaultValue = 1.0, .min = 0.0,
                      .label = "Desirable weight", .help = "lambda_D; raise it when desirable examples are rarer."},
                     {.key = "undesirable_weight", .type = Type::Number, .defaultValue = 1.0, .min = 0.0,
                      .label = "Undesirable weight", .help = "lambda_U."}}};
    return s;
}

#pragma GCC diagnostic pop

} // namespace ft::align
