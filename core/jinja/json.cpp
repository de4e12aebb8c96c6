// json.dumps for Jinja values, as transformers' tojson filter calls it (see JsonOptions
// in jinja_value.h): ", " and ": " separators on one line, "," and ": " with an indent,
// keys in insertion order unless sorted, NaN/Infinity spelled as Python does.
#include "jinja/error.h"
#include "jinja/text.h"
#include "jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ft::tok::jinja {
namespace {

void appendJsonString(std::string& out, const std::string& s, bool ensureAscii)
{
    out += '"';
    char buf[16];
    for (char32_t cp : text::decode(s)) {
        switch (cp) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (cp < 0x20 || (ensureAscii && cp >= 0x7F)) {
                if (cp > 0xFFFF) {
                    const char32_t v = cp - 0x10000;
                    std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", unsigned(0xD800 + (v >> 10)),
                                  unsigned(0xDC00 + (v & 0x3FF)));
                } else {
                    std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
                }
                out += buf;
            } else {
                text::append(out, cp);
            }
        }
    }
    out += '"';
}

void appendJson(std::string& out, const Value& v, const JsonOptions& o, int level)
{
    const std::string itemSep = o.separators ? o.separators->first : (o.indent ? "," : ", ");
    const std::string keySep = o.separators ? o.separators->second : ": ";
    auto newline = [&](int depth) {
        if (!o.indent)
            return;
        out += '\n';
        for (int i = 0; i < depth; ++i)
            out += *o.indent;
    };
    switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.asBool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.asInt()); return;
    case Value::Kind::Float: {
        const double d = v.asDouble();
        if (std::isnan(d))
            out += "NaN";
        else if (std::isinf(d))
            out += d > 0 ? "Infinity" : "-Infinity";
        else
            out += text::formatFloat(d);
        return;
    }
    case Value::Kind::String: appendJsonString(out, v.asString(), o.ensureAscii); return;
    case Value::Kind::List: {
        if (v.isGenerator() || v.isRange())
            break;
        if (v.items().empty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const Value& item : v.items()) {
            if (!first)
                out += itemSep;
            first = false;
            newline(level + 1);
            appendJson(out, item, o, level + 1);
        }
        newline(level);
        out += ']';
        return;
    }
    case Value::Kind::Dict: {
        if (v.entries().empty()) {
            out += "{}";
            return;
        }
        std::vector<const std::pair<std::string, Value>*> entries;
        for (const auto& e : v.entries())
            entries.push_back(&e);
        if (o.sortKeys)
            std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
        out += '{';
        bool first = true;
        for (const auto* e : entries) {
            if (!first)
                out += itemSep;
            first = false;
            newline(level + 1);
            appendJsonString(out, e->first, o.ensureAscii);
            out += keySep;
            appendJson(out, e->second, o, level + 1);
        }
        newline(level);
        out += '}';
        return;
    }
    default: break;
    }
    throw EvalError("Object of type " + v.typeName() + " is not JSON serializable");
}

} // namespace

std::string toJson(const Value& value, const JsonOptions& options)
{
    std::string out;
    appendJson(out, value, options, 0);
    return out;
}

} // namespace ft::tok::jinja
