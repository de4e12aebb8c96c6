// Where a training run's rows come from: a dataset file (JSONL, JSON, CSV/TSV, text
// in any layout the importer knows) or a dataset in a project database
// ("path/to/project.db#dataset-name"), and the split into train and eval rows.
// Not here: parsing files (data/importer.h), the store (data/project_store.h),
// rendering and tokenizing (prompt_format.h, sft_data.h).
#pragma once

#include "data/records.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ft::train {

struct SourceRows {
    std::string source;  // as given
    std::string name;    // the dataset name, or the file name
    data::DatasetKind kind = data::DatasetKind::Instruction;
    // File order, or id order for a project dataset. Rows read from a file carry
    // id = the 1-based line their record starts on, so a message naming a row's id
    // points at the line.
    std::vector<data::Row> rows;
};

// `source` names an existing file -> parsed with `layout` (a name of
// data::layoutList(), "auto" detects it); ft::Error naming the file, and the line
// and reason of each rejected record (up to five are listed). Otherwise a
// "project.db#dataset" reference -> read with data::resolveDataset; `layout` is not
// used. maxRows keeps the first rows only (must be >= 1 when given).
SourceRows loadRows(const std::string& source, const std::string& layout = "auto",
                    std::optional<int64_t> maxRows = std::nullopt);

// ft::Error naming the dataset, its kind and the objectives that do use it, unless
// the rows are instruction, chat or text rows.
void requireSftKind(const SourceRows& rows);

struct TrainEvalRows {
    std::vector<data::Row> train;
    std::vector<data::Row> eval;
};

// Rows whose split is eval become the eval rows when there are any (evalFraction is
// then not used); otherwise a seeded, deterministic round(n * evalFraction) of the
// train rows (at least one when evalFraction > 0 and there are >= 2 rows, and never
// all of them). Test rows go to neither. Both parts keep the input order.
// ft::Error when evalFraction is outside [0, 1).
TrainEvalRows splitTrainEval(const std::vector<data::Row>& rows, double evalFraction, uint64_t seed);

} // namespace ft::train
