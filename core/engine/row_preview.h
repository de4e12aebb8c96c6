// What the trainer sees of one dataset row under a run config: the text the prompt
// format renders, its tokens, which of them carry loss (label != -100) and which are
// masked, and where max_seq_len cuts it; for preference rows both sides, for unpaired
// rows the completion. Built by the very functions the objectives build their data
// with (buildSftDataset, buildPairs, buildUnpaired), so the preview cannot drift from
// training. `ftstudio-cli data preview` and the Data page's "As trained" view show it.
// Not here: batching and packing (train/sft_data.h), reading rows (train/dataset_source.h).
#pragma once

#include "data/records.h"
#include "train/run_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::tok {
class Tokenizer;
}

namespace ft::engine {

struct PreviewSide {
    std::string name;              // "" (instruction, chat, text), "chosen", "rejected", "completion"
    std::string text;              // the rendered text the tokens come from (before truncation)
    std::vector<int64_t> ids;      // as trained: after truncation
    std::vector<int64_t> labels;   // -100 where the loss does not look
    int64_t fullLength = 0;        // tokens before truncation
    bool dropped = false;          // no loss token left: the objective leaves the row out
};

struct RowPreview {
    int64_t rowId = 0;
    std::string kind;        // the row's dataset kind
    std::string objective;   // the run's objective
    std::string format;      // the prompt format's name
    std::string lossOn;      // sft: "assistant" or "all"
    bool packing = false;
    int64_t maxSeqLen = 0;
    std::vector<PreviewSide> sides;
};

// ft::Error when the objective does not train on rows of this kind (naming both), or
// the row cannot be rendered (naming the field).
RowPreview previewRow(const train::RunConfig& config, const data::Row& row, data::DatasetKind kind,
                      const tok::Tokenizer& tokenizer);

// {"row", "kind", "objective", "format", "loss_on", "packing", "max_seq_len", "sides": [{"name", "text",
// "tokens": [{"id", "piece", "text", "loss"}], "full_length", "kept", "loss_tokens", "masked_tokens",
// "truncated", "dropped"}]}. "text" of a token is its decoded text (special tokens shown).
nlohmann::json previewJson(const RowPreview& preview, const tok::Tokenizer& tokenizer);

} // namespace ft::engine
