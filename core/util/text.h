// Small text helpers every layer uses: ASCII trimming and case, list joining, shape
// and number formatting for messages. One home, so no file keeps a private copy.
// Not here: Unicode-aware text (tokenizer/unicode_text.h), JSON (io/json_file.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ft::util {

// True when s holds only ASCII white space (" \t\n\v\f\r"), or nothing.
bool isBlank(std::string_view s);
// s without leading and trailing ASCII white space.
std::string trim(std::string_view s);
// ASCII letters lowered; other bytes (UTF-8 included) unchanged.
std::string toLower(std::string_view s);
// Each two-character sequence backslash-n replaced by a newline, as command-line
// options that take text spell newlines.
std::string unescapeNewlines(std::string_view s);
// "a, b, c" (or with another separator); "" for no items.
std::string joinList(const std::vector<std::string>& items, std::string_view separator = ", ");
// "[2, 3, 4]", as tensor shapes appear in error messages.
std::string shapeString(std::span<const int64_t> shape);
// A number as a person writes it: 2e-04 rather than 0.000200, 1 rather than 1.000000
// (an ostream's default format, with `precision` significant digits).
std::string formatNumber(double value, int precision = 6);

} // namespace ft::util
