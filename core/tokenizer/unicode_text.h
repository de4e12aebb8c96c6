// UTF-8 and the few Unicode facts the tokenizer.json pipeline needs, each with the
// exact meaning the Hugging Face `tokenizers` crate (Rust) gives it: lossy decoding as
// String::from_utf8_lossy, White_Space as char::is_whitespace, Rust regex's \w, the
// normalization forms. Character properties and normalization come from ICU (libicuuc).
// Not here: regular expressions (split_regex.h) and the GPT-2 byte alphabet (byte_level.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ft::tok::utf8 {

// Decodes the code point starting at s[i] and advances i past it. `s` must be valid
// UTF-8 (see isValid / sanitize).
char32_t next(std::string_view s, size_t& i);

// Byte length of the sequence a valid lead byte starts (1..4).
inline size_t sequenceLength(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

void append(std::string& out, char32_t c);

// Code points in s: the bytes that are not continuation bytes (10xxxxxx), which is
// the count for valid UTF-8 and a stable count for anything else.
inline size_t codePointCount(std::string_view s)
{
    size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

bool isValid(std::string_view s);

// Rust's String::from_utf8_lossy: every maximal ill-formed subpart becomes one U+FFFD
// (so a truncated sequence at the end of `s` becomes exactly one U+FFFD).
std::string sanitize(std::string_view s);

} // namespace ft::tok::utf8

namespace ft::tok::unicode {

// Rust char::is_whitespace / regex \s: the White_Space property.
bool isWhiteSpace(char32_t c);
// Rust regex \w: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
bool isWordChar(char32_t c);
// Rust char::is_numeric: general categories Nd, Nl, No.
bool isNumeric(char32_t c);
// General category Mn (what StripAccents removes).
bool isNonSpacingMark(char32_t c);

// Rust's per-character char::to_lowercase (full, context-free mappings).
std::string lowercase(std::string_view s);

enum class Form { NFC, NFD, NFKC, NFKD };
// Unicode normalization of valid UTF-8 through ICU.
std::string normalize(std::string_view s, Form form);

} // namespace ft::tok::unicode
