// Importing dataset files into a project: JSON Lines, JSON arrays, CSV/TSV (RFC 4180,
// header row) and plain text, in the layouts of file_formats.h, detected automatically
// or named, with a column-mapping override. Every record is validated; a rejected one
// is reported with its file, 1-based line and reason. An import is one transaction:
// a failure or a kill leaves the project as it was.
// Not here: writing files (exporter.h), SQL (project_store.h).
#pragma once

#include "data/file_formats.h"
#include "data/records.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ft::data {

class ProjectStore;

// Renames source columns/keys before layout detection: fieldToColumn["instruction"] =
// "question" reads the file's "question" as the layout key "instruction". Field names
// are the layout's keys (instruction, output, conversations, label, answer, text, ...)
// or metadata keys (tags, notes, split).
struct ColumnMapping {
    std::map<std::string, std::string> fieldToColumn;
};

struct ImportOptions {
    SourceFormat format = SourceFormat::Auto;
    Layout layout = Layout::Auto;
    // The kind to import as. Needed for Layout::Native on a new dataset; with Auto it
    // narrows detection to the layouts of that kind. importFile uses the existing
    // dataset's kind when this is unset.
    std::optional<DatasetKind> kind;
    ColumnMapping mapping;
    Split defaultSplit = Split::Train;  // for records without a split
    // true: any rejected record means nothing is imported (the report lists every
    // rejection); false: valid records are imported, rejected ones reported.
    bool allOrNothing = true;
    size_t maxRowBytes = size_t{1} << 20;  // longer records (raw bytes) are rejected
    std::vector<std::string> tags;         // added to every imported row
};

struct RejectedRecord {
    std::string file;
    int64_t line = 0;    // 1-based: the line the record starts on
    std::string reason;  // e.g. "field 'output' is missing", "bad JSON: ..."
    std::string message() const;  // "file:line: reason"
};

struct ImportReport {
    std::string file;
    std::string dataset;
    int64_t datasetId = 0;
    bool createdDataset = false;
    SourceFormat format = SourceFormat::Auto;  // as detected
    Layout layout = Layout::Auto;              // as detected; Auto when no record could be read
    DatasetKind kind = DatasetKind::Instruction;
    int64_t accepted = 0;  // valid records (inserted when committed)
    int64_t rejected = 0;
    std::vector<RejectedRecord> rejections;
    bool committed = false;  // false: the project is unchanged
};

// A parsed file without a database: the valid rows in file order (with the line each
// starts on) and the rejections. layout stays Auto when no record could be read at all.
struct ImportPlan {
    std::string file;
    SourceFormat format = SourceFormat::Auto;
    Layout layout = Layout::Auto;
    DatasetKind kind = DatasetKind::Instruction;
    std::vector<Row> rows;
    std::vector<int64_t> rowLines;  // parallel to rows
    std::vector<RejectedRecord> rejections;
};

// Reads, detects, converts and validates. Throws ft::Error (naming the file) when the
// file cannot be read, is empty, has no records, or its format/layout cannot be told
// (ambiguous keys, unknown columns) or does not fit options.kind.
ImportPlan parseFile(const std::string& path, const ImportOptions& options);

// Imports into `datasetName`, creating it (kind from the layout, or options.kind) when
// it does not exist, else checking the file's kind matches it. Dataset creation and all
// inserts are one transaction. With allOrNothing and any rejection nothing is written
// and the report says committed = false; this is a result, not an exception. Throws
// ft::Error as parseFile does, and for a kind mismatch.
ImportReport importFile(ProjectStore& store, const std::string& datasetName, const std::string& path,
                        const ImportOptions& options);

} // namespace ft::data
