// Python literal parsing for the Jinja interpreter: the escapes of string literals
// as jinja2 decodes them, and int()/float() of text. Not here: str semantics
// (jinja_text.h) or the lexer's tokenization (jinja_lexer.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ft::tok::jinja::text {

// Python's unicode-escape decoding of a string literal's body (\n, \x41, \u00e9,
// octal, unknown escapes kept), as jinja2 applies it. Throws EvalError when malformed.
std::string unescapePython(std::string_view body);

// int(text, base) and float(text) as Python parses them (surrounding whitespace,
// underscores between digits, 0x/0o/0b prefixes, inf/nan); nullopt where Python raises
// ValueError. parseInt throws EvalError when the value does not fit 64 bits.
std::optional<int64_t> parseInt(std::string_view text, int64_t base);
std::optional<double> parseFloat(std::string_view text);

} // namespace ft::tok::jinja::text
