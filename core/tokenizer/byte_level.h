// GPT-2's byte alphabet (bytes_to_unicode): each of the 256 byte values is given a
// printable character, so that byte-level BPE vocabularies are plain strings. Bytes
// '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the other 68 bytes take
// U+0100, U+0101, ... in byte order (space 0x20 -> U+0120 'Ġ', '\n' -> U+010A 'Ċ').
// Not here: the GPT-2 split pattern (pretokenizer.cpp) or the decoder chain (decoder.h).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace ft::tok::byte_level {

// The character standing for byte b (code point), and its UTF-8 spelling.
char32_t charOf(unsigned char b);
const std::array<std::string, 256>& utf8Table();

// Each byte of `text` replaced by its character (the ByteLevel pre-tokenizer's mapping).
std::string encode(std::string_view text);
void encodeAppend(std::string_view text, std::string& out);

// The byte a character stands for, or -1 when it is not in the alphabet.
int byteOf(char32_t c);

// The ByteLevel decoder's rule for one token: its characters mapped back to bytes,
// or, when any character is outside the alphabet, the token's own UTF-8 bytes.
void decodeTokenAppend(std::string_view token, std::string& bytes);

} // namespace ft::tok::byte_level
