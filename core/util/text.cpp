#include "util/text.h"

#include <algorithm>
#include <sstream>

namespace ft::util {

namespace {

bool isAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

} // namespace

bool isBlank(std::string_view s) { return std::all_of(s.begin(), s.end(), isAsciiSpace); }

std::string trim(std::string_view s)
{
    size_t b = 0, e = s.size();
    while (b < e && isAsciiSpace(s[b]))
        ++b;
    while (e > b && isAsciiSpace(s[e - 1]))
        --e;
    return std::string(s.substr(b, e - b));
}

std::string toLower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
    return out;
}

std::string unescapeNewlines(std::string_view s)
{
    std::string out(s);
    for (size_t at = out.find("\\n"); at != std::string::npos; at = out.find("\\n", at + 1))
        out.replace(at, 2, "\n");
    return out;
}

std::string joinList(const std::vector<std::string>& items, std::string_view separator)
{
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i)
            out += separator;
        out += items[i];
    }
    return out;
}

std::string shapeString(std::span<const int64_t> shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string formatNumber(double value, int precision)
{
    std::ostringstream s;
    s.precision(precision);
    s << value;
    return s.str();
}

} // namespace ft::util
