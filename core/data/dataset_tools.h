// Dataset curation utilities on top of the project store: reading a whole
// dataset, exact and near-duplicate detection, seeded (optionally stratified)
// train/eval/test splits, token-length statistics for a model's tokenizer,
// seeded sampling, and `project.db#dataset-name` references for the engine.
// Every function is deterministic for its inputs (own PRNG, no std::shuffle,
// whose results differ between standard libraries). Every change goes through
// ProjectStore's public calls, so it is one transaction and can be undone.
// Not here: SQL (project_store.h), file formats (importer.h / exporter.h).
#pragma once

#include "data/project_store.h"
#include "data/records.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tok {
class Tokenizer;
}

namespace ft::data {

// Calls `visit` for every row of a dataset (optionally of one split) in id order,
// read page by page with keyset paging, so it stays linear at a million rows and
// holds one page in memory.
void forEachRow(const ProjectStore& store, int64_t datasetId, const std::function<void(const Row&)>& visit,
                std::optional<Split> split = std::nullopt);
// The same, collected.
std::vector<Row> allRows(const ProjectStore& store, int64_t datasetId, std::optional<Split> split = std::nullopt);

// ---- duplicates ------------------------------------------------------------

// The text near-duplicate detection compares: every string value of the row's
// fields (object keys in sorted order, arrays in order; numbers, booleans and
// keys themselves are left out), each lowercased (ASCII letters; other
// characters are kept as they are), with punctuation removed (ASCII and the
// U+2000..U+206F general punctuation block, so curly quotes and dashes go too),
// whitespace runs collapsed to one space and trimmed. Values are joined by
// " | ", which cannot occur inside a normalized value, so field boundaries count.
std::string normalizedText(const Row& row);
std::string normalizeString(std::string_view text);  // one value, as above

// Groups of row ids that duplicate each other: each group sorted ascending with
// at least two ids, groups ordered by their first (lowest) id.
using DuplicateGroups = std::vector<std::vector<int64_t>>;

// near = false: rows whose fields JSON is identical.
// near = true: rows whose normalizedText() is identical; and when
// jaccardThreshold > 0, also rows whose word-3-shingle sets have an estimated
// Jaccard similarity >= jaccardThreshold (64 MinHash values per row, LSH with
// 16 bands of 4, so it is about linear in rows; groups are the transitive
// closure of similar pairs). Rows are streamed, keeping only hashes and
// signatures; identity candidates are then confirmed against the stored rows,
// so a hash collision never merges distinct rows.
DuplicateGroups findDuplicates(const ProjectStore& store, int64_t datasetId, bool near, double jaccardThreshold = 0.0);

// Deletes every id of every group except its lowest, in one undoable step.
// Returns the number of rows deleted.
int64_t removeDuplicates(ProjectStore& store, const DuplicateGroups& groups);

// ---- splits ----------------------------------------------------------------

struct SplitCounts {
    int64_t train = 0;
    int64_t eval = 0;
    int64_t test = 0;
    int64_t changed = 0;  // rows whose split was rewritten
};

// Assigns every row of the dataset to train/eval/test: the rows are shuffled
// with `seed`, then round(n * evalFraction) go to eval, round(n * testFraction)
// to test and the rest to train. The same dataset and seed always give the
// same assignment. With stratifyByTag each tag group (a row's first tag in
// sorted order; untagged rows form their own group) is split in the same
// proportions, rounding carried over between groups so the totals still match
// the fractions. Only rows whose split changes are rewritten, in one
// transaction. ft::Error when a fraction is outside [0, 1] or they sum above 1.
SplitCounts assignSplits(ProjectStore& store, int64_t datasetId, double evalFraction, double testFraction,
                         uint64_t seed, bool stratifyByTag);

// ---- token lengths ---------------------------------------------------------

struct TokenLengthStats {
    int64_t count = 0;  // rows measured
    int64_t min = 0;
    int64_t median = 0;  // nearest-rank percentiles
    int64_t p95 = 0;
    int64_t max = 0;
    double mean = 0.0;
    std::vector<int64_t> overMaxIds;  // rows longer than maxLength (when maxLength > 0)
    // Histogram: histogram[i] counts rows of [i*binWidth, (i+1)*binWidth) tokens; the
    // width is 1, 2 or 5 times a power of ten, so that there are at most 40 bins.
    int64_t binWidth = 0;
    std::vector<int64_t> histogram;
};

// Token count of one row as training would see it, BOS and EOS included when the
// tokenizer has them. What is tokenized, per kind:
//   instruction  system, instruction, input, output joined by newlines (empty ones skipped)
//   chat         every message's content joined by newlines
//   preference   prompt (with BOS) + the longer of chosen and rejected (with EOS),
//                since a pair is trained as two sequences sharing the prompt;
//                message-list forms contribute their contents
//   unpaired     prompt + completion
//   verifiable   prompt + reference
//   text         text
// Chat-template markup is not counted (it depends on the template), so a
// templated sequence is a few tokens longer.
int64_t rowTokenLength(DatasetKind kind, const nlohmann::json& fields, const ft::tok::Tokenizer& tokenizer);

TokenLengthStats tokenLengths(const ProjectStore& store, int64_t datasetId, const ft::tok::Tokenizer& tokenizer,
                              int64_t maxLength);

// ---- sampling --------------------------------------------------------------

// n rows drawn without replacement with `seed` (all rows when the dataset has
// fewer), returned in id order.
std::vector<Row> sampleRows(const ProjectStore& store, int64_t datasetId, int64_t n, uint64_t seed);

// ---- dataset references ----------------------------------------------------

// "path/to/project.db#dataset-name": the form a run config names its dataset in.
struct DatasetRef {
    std::string projectPath;
    std::string datasetName;
};

// ft::Error when there is no '#', or the path or the name is empty. The last '#'
// separates them, so a path may contain '#' but a dataset name may not.
DatasetRef parseDatasetRef(const std::string& text);

struct ResolvedDataset {
    DatasetInfo info;
    std::vector<Row> rows;  // id order
};

// Opens the project and reads the dataset (optionally one split). ft::Error
// naming the project file when it is missing or not a project, and naming the
// file and listing the datasets it holds when the name is unknown.
ResolvedDataset resolveDataset(const DatasetRef& ref, std::optional<Split> split = std::nullopt);

} // namespace ft::data
