// GPT-2 bytes_to_unicode and its inverse (see byte_level.h).
#include "tokenizer/byte_level.h"

#include "tokenizer/unicode_text.h"

namespace ft::tok::byte_level {
namespace {

struct Tables {
    std::array<char32_t, 256> chars{};
    std::array<std::string, 256> utf8;
    std::array<short, 512> bytes{}; // alphabet characters all lie below U+0200

    Tables()
    {
        bytes.fill(-1);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            chars[b] = printable ? char32_t(b) : char32_t(256 + n++);
            utf8::append(utf8[b], chars[b]);
            bytes[chars[b]] = short(b);
        }
    }
};

const Tables& tables()
{
    static const Tables t;
    return t;
}

} // namespace

char32_t charOf(unsigned char b) { return tables().chars[b]; }

const std::array<std::string, 256>& utf8Table() { return tables().utf8; }

void encodeAppend(std::string_view text, std::string& out)
{
    const auto& table = tables().utf8;
    for (char c : text)
        out += table[static_cast<unsigned char>(c)];
}

std::string encode(std::string_view text)
{
    std::string out;
    out.reserve(text.size() * 2);
    encodeAppend(text, out);
    return out;
}

int byteOf(char32_t c) { return c < 512 ? tables().bytes[c] : -1; }

void decodeTokenAppend(std::string_view token, std::string& bytes)
{
    const size_t mark = bytes.size();
    size_t i = 0;
    while (i < token.size()) {
        const int b = byteOf(utf8::next(token, i));
        if (b < 0) {
            bytes.resize(mark);
            bytes.append(token);
            return;
        }
        bytes += char(b);
    }
}

} // namespace ft::tok::byte_level
