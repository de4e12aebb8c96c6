// The descriptors of the paired preference objectives DPO (cDPO), IPO, SimPO and ORPO
// (their trainer: preference_objective.cpp).
#include "align/objective_schema.h"

namespace ft::align {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using data::DatasetKind;
using Type = util::SettingSpec::Type;

const ObjectiveSchema& dpoSchema()
{
    static const ObjectiveSchema s{
        .name = "dpo",
        .label = "DPO",
        .help = "Direct preference optimization (sigmoid loss) against the base model with the adapter disabled; "
                "label_smoothing > 0 gives conservative DPO (cDPO).",
        .dataKinds = {DatasetKind::Preference},
        .settings = {templateSpec(), betaSpec(0.1),
                     {.key = "label_smoothing", .type = Type::Number, .defaultValue = 0.0, .min = 0.0, .max = 0.49,
                      .label = "Label smoothing",
                      .help = "The assumed share of flipped labels (cDPO); 0 is plain DPO."}}};
    return s;
}

const ObjectiveSchema& ipoSchema()
{
    static const ObjectiveSchema s{
        .name = "ipo",
        .label = "IPO",
        .help = "Identity preference optimization: squared loss on length-averaged log-ratios.",
        .dataKinds = {DatasetKind::Preference},
        .settings = {templateSpec(), betaSpec(0.1)}};
    return s;
}

const ObjectiveSchema& simpoSchema()
{
    static const ObjectiveSchema s{
        .name = "simpo",
        .label = "SimPO",
        .help = "Reference-free, length-normalized preference loss with a target margin gamma.",
        .dataKinds = {DatasetKind::Preference},
        .settings = {templateSpec(), betaSpec(2.0),
                     {.key = "gamma", .type = Type::Number, .defaultValue = 0.5, .min = 0.0, .label = "Gamma",
                      .help = "Target reward margin between chosen and rejected (in reward units)."},
                     {.key = "label_smoothing", .type = Type::Number, .defaultValue = 0.0, .min = 0.0, .max = 0.49,
                      .label = "Label smoothing", .help = "As in cDPO; 0 = none."}}};
    return s;
}

const ObjectiveSchema& orpoSchema()
{
    static const ObjectiveSchema s{
        .name = "orpo",
        .label = "ORPO",
        .help = "Odds-ratio preference optimization: SFT loss on the chosen response plus lambda times the "
                "odds-ratio loss; no reference model.",
        .dataKinds = {DatasetKind::Preference},
        .settings = {templateSpec(), betaSpec(0.1),
                     {.key = "lambda", .type = Type::Number, .defaultValue = 0.1, .min = 0.0, .label = "Lambda",
                      .help = "Weight of the odds-ratio term against the SFT term."}}};
    return s;
}

#pragma GCC diagnostic pop

} // namespace ft::align
