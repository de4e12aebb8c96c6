// Python literal parsing for the Jinja interpreter: string-literal escapes as jinja2
// decodes them, and int()/float() of text as the int and float filters need it.
#include "jinja/literals.h"

#include "jinja/error.h"
#include "jinja/text.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace ft::tok::jinja::text {
namespace {

// 0-9, a-z, A-Z as digits of bases up to 36; -1 otherwise.
int digitValue(char32_t c)
{
    if (c >= '0' && c <= '9')
        return int(c - '0');
    if (c >= 'a' && c <= 'z')
        return int(c - 'a') + 10;
    if (c >= 'A' && c <= 'Z')
        return int(c - 'A') + 10;
    return -1;
}

// Digits with single underscores between them (Python 3.6+ numeric literals); false otherwise.
bool dropDigitUnderscores(std::string_view s, std::string& out)
{
    out.clear();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '_') {
            out += s[i];
            continue;
        }
        if (i == 0 || i + 1 >= s.size() || digitValue(static_cast<unsigned char>(s[i - 1])) < 0 ||
            digitValue(static_cast<unsigned char>(s[i + 1])) < 0)
            return false;
    }
    return true;
}

} // namespace

std::string unescapePython(std::string_view body)
{
    std::string out;
    const std::u32string cps = text::decode(body);
    auto hexValue = [&](size_t from, size_t count, size_t& next) -> char32_t {
        if (from + count > cps.size())
            throw EvalError("truncated escape sequence in string literal");
        char32_t v = 0;
        for (size_t k = from; k < from + count; ++k) {
            const int d = digitValue(cps[k]);
            if (d < 0 || d >= 16)
                throw EvalError("truncated escape sequence in string literal");
            v = v * 16 + char32_t(d);
        }
        next = from + count;
        return v;
    };
    for (size_t k = 0; k < cps.size();) {
        const char32_t c = cps[k];
        if (c != '\\' || k + 1 >= cps.size()) {
            text::append(out, c);
            ++k;
            continue;
        }
        const char32_t e = cps[k + 1];
        size_t next = k + 2;
        switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': text::append(out, hexValue(k + 2, 2, next)); break;
        case 'u': text::append(out, hexValue(k + 2, 4, next)); break;
        case 'U': {
            const char32_t v = hexValue(k + 2, 8, next);
            if (v > 0x10FFFF)
                throw EvalError("illegal Unicode character in string literal");
            text::append(out, v);
            break;
        }
        case 'N': throw EvalError("named Unicode escapes (\\N{...}) are not supported");
        default:
            if (e >= '0' && e <= '7') {
                char32_t v = 0;
                size_t m = k + 1;
                while (m < cps.size() && m < k + 4 && cps[m] >= '0' && cps[m] <= '7')
                    v = v * 8 + (cps[m++] - '0');
                text::append(out, v);
                next = m;
            } else if (e >= 0x80) {
                // jinja2 first turns non-ASCII characters into \xNN / \uNNNN / \UNNNNNNNN,
                // so a backslash before one leaves that escape text behind.
                char buf[16];
                if (e <= 0xFF)
                    std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(e));
                else if (e <= 0xFFFF)
                    std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(e));
                else
                    std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(e));
                out += buf;
            } else {
                out += '\\';
                text::append(out, e);
            }
        }
        k = next;
    }
    return out;
}

std::optional<int64_t> parseInt(std::string_view input, int64_t base)
{
    std::string s = text::strip(input, nullptr, true, true);
    std::string sign;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        sign = s.substr(0, 1);
        s.erase(0, 1);
    }
    if (s.size() > 2 && s[0] == '0') {
        const char p = char(s[1] | 0x20);
        const int64_t prefixBase = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (prefixBase != 0 && (base == prefixBase || base == 0)) {
            base = prefixBase;
            s.erase(0, 2);
            if (!s.empty() && s[0] == '_')
                s.erase(0, 1);
        }
    }
    if (base == 0)
        base = 10;
    std::string digits;
    if (!dropDigitUnderscores(s, digits) || digits.empty() || base < 2 || base > 36)
        return std::nullopt;
    for (char c : digits) {
        const int d = digitValue(static_cast<unsigned char>(c));
        if (d < 0 || d >= base)
            return std::nullopt;
    }
    errno = 0;
    const long long v = std::strtoll((sign + digits).c_str(), nullptr, int(base));
    if (errno == ERANGE)
        throw EvalError("the integer " + std::string(input) + " is too large for this template interpreter");
    return v;
}

std::optional<double> parseFloat(std::string_view input)
{
    const std::string s = text::strip(input, nullptr, true, true);
    if (!text::isAscii(s))
        return std::nullopt;
    const std::string lowered = text::lower(s);
    std::string body = lowered;
    if (!body.empty() && (body[0] == '+' || body[0] == '-'))
        body.erase(0, 1);
    if (body == "inf" || body == "infinity" || body == "nan")
        return std::strtod(lowered.c_str(), nullptr);
    std::string clean;
    if (!dropDigitUnderscores(lowered, clean) || clean.empty())
        return std::nullopt;
    // [sign] (digits [. digits?] | . digits) [e [sign] digits]
    size_t i = 0;
    const size_t n = clean.size();
    auto digitsFrom = [&](size_t& at) {
        size_t count = 0;
        while (at < n && clean[at] >= '0' && clean[at] <= '9')
            ++at, ++count;
        return count;
    };
    if (clean[i] == '+' || clean[i] == '-')
        ++i;
    size_t mantissaDigits = digitsFrom(i);
    if (i < n && clean[i] == '.') {
        ++i;
        mantissaDigits += digitsFrom(i);
    }
    if (mantissaDigits == 0)
        return std::nullopt;
    if (i < n && clean[i] == 'e') {
        ++i;
        if (i < n && (clean[i] == '+' || clean[i] == '-'))
            ++i;
        if (digitsFrom(i) == 0)
            return std::nullopt;
    }
    if (i != n)
        return std::nullopt;
    return std::strtod(clean.c_str(), nullptr);
}

} // namespace ft::tok::jinja::text
