// The record layouts of file_formats.h as code: which layouts a record's keys fit,
// and converting one record (a JSON object, or CSV cells as text) into a Row with the
// field names of records.h, or into the reason it is rejected. Internal to the importer.
// Not here: splitting files into records (record_reader.h), the database (importer.cpp).
#pragma once

#include "data/importer.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ft::data {

// Moves each mapped column to its field name (fieldToColumn["output"] = "answer" turns
// the key "answer" into "output"), before layouts are detected.
void applyMapping(nlohmann::json& record, const ColumnMapping& mapping);

// The layouts whose required keys are all among `keys`; PlainText only when no other
// layout fits. Several results mean the record is ambiguous.
std::vector<Layout> matchingLayouts(const std::vector<std::string>& keys);

// The layout keys that tell each layout apart, for error messages: "instruction+output".
std::string requiredKeysText(Layout layout);

// The rejection reason for a record that is not a JSON object: "not a JSON object but an array".
std::string notAnObjectReason(const nlohmann::json& record);

// Converts `record` (layout must be concrete: not Auto, not Native) into `row`:
// fields in records.h names, tags, notes, split and preference labels. Returns "" on
// success, else the rejection reason ("field 'output' is missing", "unknown role ...").
// With textCells, values are CSV cells: "" is absent, and lists, objects and booleans
// are read from their text.
std::string convertRecord(Layout layout, const nlohmann::json& record, bool textCells, const ImportOptions& options,
                          Row& row);

} // namespace ft::data
