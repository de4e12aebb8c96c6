// Checks of a run's data before it starts, the silent failures of fine-tuning: rows the
// sequence length cuts, rows it leaves nothing of the response of (dropped), a template
// that produces no assistant span (nothing would train), eval rows
// whose prompt is also a training row's (the held-out loss then measures memory), and
// KTO's desirable / undesirable imbalance. Each finding has a count and the row ids (the Train page jumps
// to them). Rows are tokenized by the objectives' own builders, as training will.
// Empty responses and pairs with the same chosen and rejected are not among them:
// reading a file or a project dataset already refuses such rows, naming the line. Not here: the config's own
// checks (train/run_config.h), the preview of one row (row_preview.h).
#pragma once

#include "train/run_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::tok {
class Tokenizer;
}

namespace ft::engine {

struct DataFinding {
    std::string check;     // over_max_seq_len, dropped, no_assistant_span,
                           // eval_prompt_in_train, kto_imbalance, unrenderable
    std::string severity;  // "error": training would fail or learn nothing from these rows; "warning"
    std::string split;     // "train", "eval", or "" for the whole run
    int64_t count = 0;
    std::vector<int64_t> rows;  // ids of the rows (at most kMaxListedRows)
    std::string message;        // one sentence with the count
};

inline constexpr size_t kMaxListedRows = 200;

struct DataCheckReport {
    std::string source;    // data.train as given
    std::string kind;      // the rows' kind
    int64_t trainRows = 0, evalRows = 0;
    std::vector<DataFinding> findings;  // empty: nothing found
};

// ft::Error when the data cannot be read at all (as training would fail).
DataCheckReport checkRunData(const train::RunConfig& config, const tok::Tokenizer& tokenizer);

nlohmann::json dataCheckJson(const DataCheckReport& report);

} // namespace ft::engine
