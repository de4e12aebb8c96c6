// Whole JSON files: read one with an error that points at the line and column,
// write one atomically (temporary name, fsync, rename).
// Not for JSON Lines (one document per line) or streaming; see core/data for those.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace ft::io {

// Throws ft::Error naming the file; a syntax error also names its line and column
// ("... at line 3, column 8: ...").
nlohmann::json readJsonFile(const std::string& path);

// Serializes with `indent` spaces per level (negative: one line) plus a final newline.
void writeJsonFileAtomic(const std::string& path, const nlohmann::json& j, int indent = 2);

} // namespace ft::io
