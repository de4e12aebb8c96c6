// UTF-8 helpers and ICU-backed Unicode properties (see unicode_text.h).
#include "tokenizer/unicode_text.h"

#include "util/error.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace ft::tok::utf8 {

char32_t next(std::string_view s, size_t& i)
{
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char lead = b(0);
    char32_t c;
    if (lead < 0x80) {
        c = lead;
        i += 1;
    } else if (lead < 0xE0) {
        c = (char32_t(lead & 0x1F) << 6) | (b(1) & 0x3F);
        i += 2;
    } else if (lead < 0xF0) {
        c = (char32_t(lead & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        i += 3;
    } else {
        c = (char32_t(lead & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) | (char32_t(b(2) & 0x3F) << 6) |
            (b(3) & 0x3F);
        i += 4;
    }
    return c;
}

void append(std::string& out, char32_t c)
{
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

namespace {

// Length of the well-formed sequence at s[i], or 0 with `bad` set to the length of
// the maximal ill-formed subpart (at least 1), per Unicode's "U+FFFD substitution of
// maximal subparts" (Table 3-7 of the standard), which Rust's lossy decoding follows.
size_t wellFormedAt(std::string_view s, size_t i, size_t& bad)
{
    const auto at = [&](size_t k) -> int { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : -1; };
    const int lead = at(0);
    if (lead < 0x80)
        return 1;
    int need = 0, lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) need = 1;
    else if (lead == 0xE0) need = 2, lo = 0xA0;
    else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) need = 2;
    else if (lead == 0xED) need = 2, hi = 0x9F;
    else if (lead == 0xF0) need = 3, lo = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3) need = 3;
    else if (lead == 0xF4) need = 3, hi = 0x8F;
    else {
        bad = 1;
        return 0;
    }
    for (int k = 1; k <= need; ++k) {
        const int c = at(k);
        const int l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (c < l || c > h) {
            bad = size_t(k);
            return 0;
        }
    }
    return size_t(need) + 1;
}

} // namespace

bool isValid(std::string_view s)
{
    size_t i = 0;
    while (i < s.size()) {
        // ASCII fast path, eight bytes at a time.
        while (i + 8 <= s.size()) {
            uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= s.size())
            break;
        size_t bad = 0;
        const size_t n = wellFormedAt(s, i, bad);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

std::string sanitize(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        size_t bad = 0;
        const size_t n = wellFormedAt(s, i, bad);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            i += bad;
        }
    }
    return out;
}

} // namespace ft::tok::utf8

namespace ft::tok::unicode {

bool isWhiteSpace(char32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return u_isUWhiteSpace(UChar32(c));
}

bool isWordChar(char32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    const auto cp = UChar32(c);
    if (u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL))
        return true;
    const int8_t type = u_charType(cp);
    return type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_COMBINING_SPACING_MARK ||
           type == U_DECIMAL_DIGIT_NUMBER || type == U_CONNECTOR_PUNCTUATION;
}

bool isNumeric(char32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    const int8_t type = u_charType(UChar32(c));
    return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool isNonSpacingMark(char32_t c)
{
    return c >= 0x300 && u_charType(UChar32(c)) == U_NON_SPACING_MARK;
}

std::string lowercase(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const char32_t c = utf8::next(s, i);
        if (c < 0x80)
            out += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
        else if (c == 0x130) // the one unconditional multi-character lowercase mapping
            out += "i\xCC\x87";
        else
            utf8::append(out, char32_t(u_tolower(UChar32(c))));
    }
    return out;
}

std::string normalize(std::string_view s, Form form)
{
    // Text below these code points is already in the requested form: nothing under
    // U+0300 composes or has NFC_Quick_Check=No, nothing under U+00C0 has a canonical
    // decomposition, and nothing in ASCII has a compatibility one.
    const unsigned char limit = form == Form::NFC ? 0xCC : form == Form::NFD ? 0xC3 : 0x80;
    bool trivial = true;
    for (char ch : s)
        if (static_cast<unsigned char>(ch) >= limit) {
            trivial = false;
            break;
        }
    if (trivial)
        return std::string(s);

    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* normalizer = form == Form::NFC    ? unorm2_getNFCInstance(&status)
                                     : form == Form::NFD  ? unorm2_getNFDInstance(&status)
                                     : form == Form::NFKC ? unorm2_getNFKCInstance(&status)
                                                          : unorm2_getNFKDInstance(&status);
    if (U_FAILURE(status))
        fail(std::string("ICU has no Unicode normalizer available: ") + u_errorName(status));

    int32_t wideLength = 0;
    std::vector<UChar> wide(s.size() + 1);
    u_strFromUTF8(wide.data(), int32_t(wide.size()), &wideLength, s.data(), int32_t(s.size()), &status);
    if (U_FAILURE(status))
        fail(std::string("cannot convert text to UTF-16 for normalization: ") + u_errorName(status));

    std::vector<UChar> normalized(size_t(wideLength) * 3 + 16);
    int32_t normalizedLength =
        unorm2_normalize(normalizer, wide.data(), wideLength, normalized.data(), int32_t(normalized.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        status = U_ZERO_ERROR;
        normalized.resize(size_t(normalizedLength) + 1);
        normalizedLength = unorm2_normalize(normalizer, wide.data(), wideLength, normalized.data(),
                                            int32_t(normalized.size()), &status);
    }
    if (U_FAILURE(status))
        fail(std::string("Unicode normalization failed: ") + u_errorName(status));

    std::string out(size_t(normalizedLength) * 3, '\0');
    int32_t outLength = 0;
    u_strToUTF8(out.data(), int32_t(out.size()), &outLength, normalized.data(), normalizedLength, &status);
    if (U_FAILURE(status))
        fail(std::string("cannot convert normalized text back to UTF-8: ") + u_errorName(status));
    out.resize(size_t(outLength));
    return out;
}

} // namespace ft::tok::unicode
