// Python str semantics on UTF-8 strings for the Jinja interpreter (see jinja_text.h).
#include "jinja/text.h"

#include "jinja/error.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ft::tok::jinja::text {
namespace {

struct Range {
    char32_t first, last;
};

// Scripts with letter case that the mapping below does not cover: converting them
// would silently differ from Python, so lower()/upper()/title() refuse them.
constexpr Range kUncoveredCased[] = {
    {0x0180, 0x02AF},   {0x0345, 0x0345},   {0x0370, 0x03FF},   {0x0531, 0x0587},   {0x10A0, 0x10FF},
    {0x13A0, 0x13FF},   {0x1C80, 0x1CBF},   {0x1D00, 0x1DBF},   {0x1E00, 0x1FFF},   {0x2126, 0x2126},
    {0x212A, 0x212B},   {0x2132, 0x2132},   {0x214E, 0x214E},   {0x2160, 0x2184},   {0x24B6, 0x24E9},
    {0x2C00, 0x2D2F},   {0xA640, 0xA69F},   {0xA722, 0xA7FF},   {0xAB53, 0xAB53},   {0xAB70, 0xABBF},
    {0xFB00, 0xFB17},   {0x10400, 0x1044F}, {0x104B0, 0x104FB}, {0x10570, 0x105BF}, {0x10C80, 0x10CFF},
    {0x118A0, 0x118DF}, {0x16E40, 0x16E7F}, {0x1E900, 0x1E943},
};

void checkCovered(char32_t cp)
{
    for (const Range& r : kUncoveredCased)
        if (cp >= r.first && cp <= r.last) {
            char hex[16];
            std::snprintf(hex, sizeof hex, "U+%04X", unsigned(cp));
            std::string ch;
            append(ch, cp);
            throw EvalError("changing the case of '" + ch + "' (" + hex +
                            ") is not supported by this template interpreter");
        }
}

// Pairs where the upper-case letter has the even (or odd) code point.
bool inPairs(char32_t cp, char32_t first, char32_t last)
{
    return cp >= first && cp <= last;
}

// Lower-case form of cp appended to out.
void appendLower(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += (cp >= 'A' && cp <= 'Z') ? char(cp + 32) : char(cp);
        return;
    }
    checkCovered(cp);
    char32_t r = cp;
    if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
        r = cp + 0x20;
    else if (cp == 0x130) { // İ -> i + combining dot above
        out += 'i';
        append(out, 0x307);
        return;
    } else if (inPairs(cp, 0x100, 0x12F) || inPairs(cp, 0x132, 0x137) || inPairs(cp, 0x14A, 0x177))
        r = (cp % 2 == 0) ? cp + 1 : cp;
    else if (inPairs(cp, 0x139, 0x148) || inPairs(cp, 0x179, 0x17E))
        r = (cp % 2 == 1) ? cp + 1 : cp;
    else if (cp == 0x178)
        r = 0xFF;
    else if (cp >= 0x400 && cp <= 0x40F)
        r = cp + 0x50;
    else if (cp >= 0x410 && cp <= 0x42F)
        r = cp + 0x20;
    else if (inPairs(cp, 0x460, 0x481) || inPairs(cp, 0x48A, 0x4BF) || inPairs(cp, 0x4D0, 0x52F))
        r = (cp % 2 == 0) ? cp + 1 : cp;
    else if (cp == 0x4C0)
        r = 0x4CF;
    else if (inPairs(cp, 0x4C1, 0x4CE))
        r = (cp % 2 == 1) ? cp + 1 : cp;
    else if (cp >= 0xFF21 && cp <= 0xFF3A)
        r = cp + 0x20;
    append(out, r);
}

// Upper-case (titleCase: title-case) form of cp appended to out.
void appendUpper(std::string& out, char32_t cp, bool titleCase = false)
{
    if (cp < 0x80) {
        out += (cp >= 'a' && cp <= 'z') ? char(cp - 32) : char(cp);
        return;
    }
    checkCovered(cp);
    char32_t r = cp;
    if (cp == 0xDF) { // ß
        out += titleCase ? "Ss" : "SS";
        return;
    }
    if (cp == 0x149) { // ŉ -> ʼN
        append(out, 0x2BC);
        out += 'N';
        return;
    }
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)
        r = cp - 0x20;
    else if (cp == 0xFF)
        r = 0x178;
    else if (cp == 0xB5)
        r = 0x39C;
    else if (cp == 0x131)
        r = 'I';
    else if (cp == 0x17F)
        r = 'S';
    else if (inPairs(cp, 0x100, 0x12F) || inPairs(cp, 0x132, 0x137) || inPairs(cp, 0x14A, 0x177))
        r = (cp % 2 == 1) ? cp - 1 : cp;
    else if (inPairs(cp, 0x139, 0x148) || inPairs(cp, 0x179, 0x17E))
        r = (cp % 2 == 0) ? cp - 1 : cp;
    else if (cp >= 0x450 && cp <= 0x45F)
        r = cp - 0x50;
    else if (cp >= 0x430 && cp <= 0x44F)
        r = cp - 0x20;
    else if (inPairs(cp, 0x460, 0x481) || inPairs(cp, 0x48A, 0x4BF) || inPairs(cp, 0x4D0, 0x52F))
        r = (cp % 2 == 1) ? cp - 1 : cp;
    else if (cp == 0x4CF)
        r = 0x4C0;
    else if (inPairs(cp, 0x4C1, 0x4CE))
        r = (cp % 2 == 0) ? cp - 1 : cp;
    else if (cp >= 0xFF41 && cp <= 0xFF5A)
        r = cp - 0x20;
    append(out, r);
}

bool isCased(char32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    std::string lo, up;
    appendLower(lo, cp);
    appendUpper(up, cp);
    std::string self;
    append(self, cp);
    return lo != self || up != self || cp == 0xDF || cp == 0x138;
}

bool isNonPrintable(char32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD)
        return true;
    constexpr Range kRanges[] = {{0x61C, 0x61C},     {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},
                                 {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
                                 {0xD800, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},
                                 {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
                                 {0xF0000, 0x10FFFF}};
    for (const Range& r : kRanges)
        if (cp >= r.first && cp <= r.last)
            return true;
    return false;
}

bool isLineBreak(char32_t cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) || cp == 0x85 ||
           cp == 0x2028 || cp == 0x2029;
}

} // namespace

std::u32string decode(std::string_view s)
{
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = s[i];
        int extra = 0;
        char32_t cp = 0;
        if (c < 0x80) {
            out += char32_t(c);
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            out += U'\uFFFD';
            ++i;
            continue;
        }
        bool ok = i + extra < s.size();
        for (int k = 1; ok && k <= extra; ++k) {
            const unsigned char cc = s[i + k];
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok) {
            out += U'\uFFFD';
            ++i;
            continue;
        }
        out += cp;
        i += extra + 1;
    }
    return out;
}

void append(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

std::string encode(std::u32string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char32_t cp : s)
        append(out, cp);
    return out;
}

bool isAscii(std::string_view s)
{
    for (unsigned char c : s)
        if (c >= 0x80)
            return false;
    return true;
}

size_t length(std::string_view s)
{
    return isAscii(s) ? s.size() : decode(s).size();
}

bool isSpace(char32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

std::string strip(std::string_view s, const std::string* chars, bool left, bool right)
{
    const std::u32string cps = decode(s);
    const std::u32string set = chars ? decode(*chars) : std::u32string();
    auto drop = [&](char32_t cp) { return chars ? set.find(cp) != std::u32string::npos : isSpace(cp); };
    size_t b = 0, e = cps.size();
    if (left)
        while (b < e && drop(cps[b]))
            ++b;
    if (right)
        while (e > b && drop(cps[e - 1]))
            --e;
    return encode(std::u32string_view(cps).substr(b, e - b));
}

std::string lower(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char32_t cp : decode(s))
        appendLower(out, cp);
    return out;
}

std::string upper(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char32_t cp : decode(s))
        appendUpper(out, cp);
    return out;
}

std::string capitalize(std::string_view s)
{
    const std::u32string cps = decode(s);
    std::string out;
    for (size_t i = 0; i < cps.size(); ++i) {
        if (i == 0)
            appendUpper(out, cps[i], /*titleCase=*/true);
        else
            appendLower(out, cps[i]);
    }
    return out;
}

std::string pyTitle(std::string_view s)
{
    std::string out;
    bool previousCased = false;
    for (char32_t cp : decode(s)) {
        if (previousCased)
            appendLower(out, cp);
        else
            appendUpper(out, cp, /*titleCase=*/true);
        previousCased = isCased(cp);
    }
    return out;
}

std::string jinjaTitle(std::string_view s)
{
    // Jinja: "".join(item[0].upper() + item[1:].lower() for item in re.split(r"([-\s({\[<]+)", s) if item)
    auto isSeparator = [](char32_t cp) {
        return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || isSpace(cp);
    };
    const std::u32string cps = decode(s);
    std::string out;
    size_t i = 0;
    while (i < cps.size()) {
        const bool sep = isSeparator(cps[i]);
        size_t j = i;
        while (j < cps.size() && isSeparator(cps[j]) == sep)
            ++j;
        for (size_t k = i; k < j; ++k) {
            if (k == i)
                appendUpper(out, cps[k]);
            else
                appendLower(out, cps[k]);
        }
        i = j;
    }
    return out;
}

std::vector<std::string> splitLines(std::string_view s, bool keepEnds)
{
    const std::u32string cps = decode(s);
    std::vector<std::string> lines;
    size_t start = 0, i = 0;
    while (i < cps.size()) {
        if (!isLineBreak(cps[i])) {
            ++i;
            continue;
        }
        size_t end = i + ((cps[i] == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ? 2 : 1);
        lines.push_back(encode(std::u32string_view(cps).substr(start, (keepEnds ? end : i) - start)));
        start = i = end;
    }
    if (start < cps.size())
        lines.push_back(encode(std::u32string_view(cps).substr(start)));
    return lines;
}

std::string reprString(std::string_view s)
{
    const std::u32string cps = decode(s);
    const bool hasSingle = cps.find(U'\'') != std::u32string::npos;
    const bool hasDouble = cps.find(U'"') != std::u32string::npos;
    const char32_t quote = (hasSingle && !hasDouble) ? U'"' : U'\'';
    std::string out(1, char(quote));
    char buf[16];
    for (char32_t cp : cps) {
        if (cp == quote || cp == U'\\') {
            out += '\\';
            out += char(cp);
        } else if (cp == U'\t') {
            out += "\\t";
        } else if (cp == U'\n') {
            out += "\\n";
        } else if (cp == U'\r') {
            out += "\\r";
        } else if (isNonPrintable(cp)) {
            if (cp <= 0xFF)
                std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(cp));
            else if (cp <= 0xFFFF)
                std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
            else
                std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(cp));
            out += buf;
        } else {
            append(out, cp);
        }
    }
    out += char(quote);
    return out;
}

std::string formatFloat(double v)
{
    if (std::isnan(v))
        return "nan";
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    const std::string sci(buf, res.ptr); // e.g. "-1.2345e+16"
    const size_t ePos = sci.find('e');
    std::string mantissa = sci.substr(0, ePos);
    const int exponent = std::stoi(sci.substr(ePos + 1));
    std::string sign;
    if (!mantissa.empty() && mantissa[0] == '-') {
        sign = "-";
        mantissa.erase(0, 1);
    }
    std::string digits;
    for (char c : mantissa)
        if (c != '.')
            digits += c;
    const int n = int(digits.size());
    const int decpt = exponent + 1; // value = 0.<digits> * 10^decpt
    std::string out = sign;
    if (decpt <= -4 || decpt > 16) {
        out += digits.substr(0, 1);
        if (n > 1)
            out += "." + digits.substr(1);
        std::snprintf(buf, sizeof buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        out += buf;
    } else if (decpt <= 0) {
        out += "0." + std::string(size_t(-decpt), '0') + digits;
    } else if (decpt >= n) {
        out += digits + std::string(size_t(decpt - n), '0') + ".0";
    } else {
        out += digits.substr(0, size_t(decpt)) + "." + digits.substr(size_t(decpt));
    }
    return out;
}

} // namespace ft::tok::jinja::text
