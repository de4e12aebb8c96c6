// Python string semantics that Jinja templates observe, on UTF-8 std::strings:
// code-point indexing, str.isspace()/strip(), case mapping, str.title(), splitlines(),
// repr() of str and float. Case mapping covers ASCII, Latin-1, Latin Extended-A,
// Cyrillic (U+0400-U+045F) and fullwidth Latin; other cased scripts raise EvalError
// instead of being converted wrongly (caseless scripts such as CJK pass unchanged).
// Not here: anything that knows about templates or values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ft::tok::jinja::text {

// Invalid UTF-8 bytes decode to U+FFFD.
std::u32string decode(std::string_view s);
std::string encode(std::u32string_view s);
void append(std::string& out, char32_t cp);
bool isAscii(std::string_view s);
size_t length(std::string_view s); // in code points

// Python str.isspace() for one code point.
bool isSpace(char32_t cp);
// str.strip/lstrip/rstrip: with chars == nullptr, whitespace.
std::string strip(std::string_view s, const std::string* chars, bool left, bool right);

std::string lower(std::string_view s);
std::string upper(std::string_view s);
std::string capitalize(std::string_view s); // str.capitalize()
std::string pyTitle(std::string_view s);    // str.title()
std::string jinjaTitle(std::string_view s); // Jinja's |title filter (words split at - ( { [ < and whitespace)

// str.splitlines(keepends)
std::vector<std::string> splitLines(std::string_view s, bool keepEnds);

// repr() of a Python str: quotes chosen as Python does, escapes for control and
// non-printable characters.
std::string reprString(std::string_view s);
// repr() of a Python float: shortest round-trip digits, '1e+16', '1e-05', 'inf', 'nan'.
std::string formatFloat(double v);

} // namespace ft::tok::jinja::text
