// Exporting a dataset to a file in the formats and layouts importer.h reads, so that
// import -> export -> import yields identical rows (fields, tags, notes, split, and
// preference labels in the native layout). The file is written to a temporary name
// and renamed into place.
// Not here: reading files (importer.h), SQL (project_store.h).
#pragma once

#include "data/file_formats.h"
#include "data/records.h"

#include <cstdint>
#include <optional>
#include <string>

namespace ft::data {

class ProjectStore;

struct ExportOptions {
    SourceFormat format = SourceFormat::Auto;  // Auto: from the path's extension
    // Native (also for Auto) writes records.h field names; a public layout must hold
    // the dataset's kind (Alpaca for instruction, ShareGpt or OpenAiMessages for chat...).
    Layout layout = Layout::Native;
    std::optional<Split> split;  // only rows of this split; all when unset
    // Write tags, notes, split (and label_source, annotator, confidence, labeled_at for
    // preference rows). Unset: on for Native, off for public layouts. The Text format
    // cannot carry metadata: asking for it there is an error.
    std::optional<bool> includeMetadata;
};

// Writes the rows in id order and returns how many were written. Throws ft::Error when
// the dataset does not exist, the layout or format cannot hold its kind, a row cannot
// be represented (a Text-format document with a blank line in it), or the file cannot
// be written (the previous file under `path`, if any, is left as it was).
int64_t exportDataset(const ProjectStore& store, const std::string& datasetName, const std::string& path,
                      const ExportOptions& options);

} // namespace ft::data
