// SFT's descriptor (its trainer: sft_objective.cpp).
#include "align/objective_schema.h"
#include "train/run_config.h"

namespace ft::train {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using data::DatasetKind;
using Type = util::SettingSpec::Type;

const ObjectiveSchema& sftSchema()
{
    static const ObjectiveSchema s{
        .name = "sft",
        .label = "Instruction tuning (SFT)",
        .help = "Next-token loss on the response tokens of instruction, chat or plain-text rows.",
        .dataKinds = {DatasetKind::Instruction, DatasetKind::Chat, DatasetKind::Text},
        .settings = {
            {.key = "loss_on", .type = Type::Choice, .defaultValue = "assistant", .choices = {"assistant", "all"},
             .label = "Loss on", .help = "assistant: only response tokens train; all: every token."},
            {.key = "packing", .type = Type::Bool, .defaultValue = false, .label = "Packing",
             .help = "Pack short examples into one row, each attending only to itself."},
            {.key = "template", .type = Type::Choice, .defaultValue = "alpaca",
             .choices = {"alpaca", "chatml", "plain", "model"}, .label = "Prompt template",
             .help = "How rows become text; model: the chat template of the model folder."},
            {.key = "reasoning_loss", .type = Type::Bool, .defaultValue = true, .label = "Loss on reasoning",
             .help = "Whether the reasoning of an answer (<think>...</think>, reasoning_content) carries loss; off: "
                     "the model learns the final answers only."},
        }};
    return s;
}

#pragma GCC diagnostic pop

} // namespace ft::train
