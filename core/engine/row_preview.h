// What the trainer sees of one dataset row under a run config: the text the prompt
// format renders, its tokens, which of them carry loss (label != -100) and which are
// masked, and where max_seq_len cuts it; for preference rows both sides, for unpaired
// rows the completion. Built by the very functions the objectives build their data
// with (buildSftDataset, buildPairs, buildUnpaired), so the preview cannot drift from
// training. `ftstudio-cli data preview` and the Data page's "As trained" view show it.
// With packing on and the run's training rows given, also where the row lands in the
// first epoch: the packed row it shares and its neighbours there, in order, as the
// SFT batcher plans them (the same plan the trainer follows).
// Not here: batching and packing (train/sft_data.h), reading rows (train/dataset_source.h).
#pragma once

#include "data/records.h"
#include "train/run_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
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

struct PackedNeighbour {
    int64_t rowId = 0;
    int64_t start = 0;       // first position in the packed row
    int64_t tokens = 0;
    int64_t lossTokens = 0;
    std::string text;        // its tokens decoded (special tokens shown)
};

struct PackedPlacement {
    bool inEval = false;     // the row is in the evaluation split: evaluated alone, never packed
    bool dropped = false;    // no loss token within max_seq_len: in no packed row
    int64_t epoch = 0;       // the plan shown (the first epoch; later ones are reshuffled)
    int64_t packedRow = 0;   // 0-based position of its packed row in the epoch's order
    int64_t packedRows = 0;  // packed rows in the epoch
    int64_t length = 0;      // tokens per packed row (max_seq_len)
    std::vector<PackedNeighbour> examples;  // the packed row's examples in order, this row among them
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
    std::optional<PackedPlacement> packed;  // packing, an SFT row and trainRows given
};

// ft::Error when the objective does not train on rows of this kind (naming both), or
// the row cannot be rendered (naming the field). `trainRows`: the run's training split
// (loadObjectiveRows), for the packed placement.
RowPreview previewRow(const train::RunConfig& config, const data::Row& row, data::DatasetKind kind,
                      const tok::Tokenizer& tokenizer, const std::vector<data::Row>* trainRows = nullptr);

// {"row", "kind", "objective", "format", "loss_on", "packing", "max_seq_len", "sides": [{"name", "text",
// "tokens": [{"id", "piece", "text", "loss"}], "full_length", "kept", "loss_tokens", "masked_tokens",
// "truncated", "dropped"}], "packed": {"in_eval", "dropped", "epoch", "packed_row", "packed_rows", "length",
// "used", "examples": [{"row", "start", "tokens", "loss_tokens", "text", "self"}]} (only with a placement)}.
// "text" of a token is its decoded text (special tokens shown).
nlohmann::json previewJson(const RowPreview& preview, const tok::Tokenizer& tokenizer);

} // namespace ft::engine
