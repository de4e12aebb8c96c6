// The JSON Schema subset and the PCRE2 wrapper of json_schema.h. The schema is
// checked once up front (keywords, value kinds, patterns), so validation can trust it.
#include "eval/json_schema.h"

#include "tokenizer/unicode_text.h"
#include "util/error.h"
#include "util/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

namespace ft::eval {

namespace {

using nlohmann::json;

const std::vector<std::string> kAnnotations = {"$schema", "$id",     "$comment",   "title",    "description",
                                               "default", "examples", "deprecated", "readOnly", "writeOnly"};
const std::vector<std::string> kTypeNames = {"null", "boolean", "object", "array", "number", "integer", "string"};

bool contains(const std::vector<std::string>& list, const std::string& item)
{
    return std::find(list.begin(), list.end(), item) != list.end();
}

// A value as a message shows it: compact JSON, long values cut short.
std::string shown(const json& v)
{
    std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

bool isIntegral(const json& v)
{
    if (v.is_number_integer())
        return true;
    if (!v.is_number_float())
        return false;
    const double x = v.get<double>();
    return std::isfinite(x) && std::floor(x) == x;
}

// The JSON Schema type name of a value (3 and 3.0 are both "integer").
std::string typeOf(const json& v)
{
    switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    default: return isIntegral(v) ? "integer" : "number";
    }
}

bool hasType(const json& v, const std::string& type)
{
    if (type == "number")
        return v.is_number();
    return typeOf(v) == type;
}

bool isMultipleOf(const json& v, const json& divisor)
{
    if (v.is_number_integer() && divisor.is_number_integer()) {  // exact, also past 2^53
        const uint64_t magnitude = v.is_number_unsigned() ? v.get<uint64_t>()
                                   : v.get<int64_t>() < 0 ? 0 - static_cast<uint64_t>(v.get<int64_t>())
                                                          : static_cast<uint64_t>(v.get<int64_t>());
        return magnitude % divisor.get<uint64_t>() == 0;
    }
    // Floats: 0.3 / 0.1 is 2.9999999999999996, which is a multiple for any reader.
    const double q = v.get<double>() / divisor.get<double>();
    return std::isfinite(q) && std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
}

std::string childPath(const std::string& path, const std::string& key)
{
    bool plain = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
    for (unsigned char c : key)
        plain = plain && (std::isalnum(c) || c == '_');
    if (plain)
        return path + "." + key;
    std::string escaped;
    for (char c : key)
        escaped += c == '\'' ? std::string("\\'") : std::string(1, c);
    return path + "['" + escaped + "']";
}

std::string itemPath(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

} // namespace

// ---- Regex ------------------------------------------------------------------

Regex::Regex(std::string_view pattern, const std::string& where) : m_regex(pattern, where) {}

bool Regex::search(std::string_view subject) const { return m_regex.search(validUtf8(subject)); }

bool Regex::fullMatch(std::string_view subject) const { return m_regex.fullMatch(validUtf8(subject)); }

std::string Regex::validUtf8(std::string_view subject)
{
    // A completion cut mid-token can end in half a UTF-8 sequence; PCRE2 would refuse it.
    return tok::utf8::isValid(subject) ? std::string(subject) : tok::utf8::sanitize(subject);
}

// ---- JsonSchema -------------------------------------------------------------

const std::vector<std::string>& supportedSchemaKeywords()
{
    static const std::vector<std::string> keywords = {
        "type",      "enum",      "const",       "properties", "required",         "additionalProperties",
        "items",     "minItems",  "maxItems",    "uniqueItems", "minLength",       "maxLength",
        "pattern",   "minimum",   "maximum",     "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "anyOf",     "allOf",     "oneOf",       "not"};
    return keywords;
}

JsonSchema::JsonSchema(const nlohmann::json& schema) : m_schema(schema) { check(m_schema, "#"); }

void JsonSchema::check(const json& schema, const std::string& where)
{
    if (schema.is_boolean())
        return;
    if (!schema.is_object())
        fail("JSON schema at " + where + ": a schema must be an object or true/false (found " + schema.type_name() +
             ")");
    for (const auto& [key, v] : schema.items()) {
        const std::string at = where + "/" + key;
        const auto bad = [&](const std::string& expected) {
            fail("JSON schema at " + at + ": \"" + key + "\" must be " + expected + " (found " + shown(v) + ")");
        };
        if (contains(kAnnotations, key))
            continue;
        if (!contains(supportedSchemaKeywords(), key))
            fail("JSON schema keyword \"" + key + "\" (at " + at + ") is not supported; supported keywords: " +
                 util::joinList(supportedSchemaKeywords()));
        if (key == "type") {
            const json list = v.is_array() ? v : json::array({v});
            if (list.empty())
                bad("a type name or a non-empty list of them");
            for (const json& t : list)
                if (!t.is_string() || !contains(kTypeNames, t.get<std::string>()))
                    bad("one of " + util::joinList(kTypeNames) + ", or a list of them");
        } else if (key == "enum" && !v.is_array()) {
            bad("a list of values");
        } else if (key == "properties") {
            if (!v.is_object())
                bad("an object of schemas");
            for (const auto& [name, sub] : v.items())
                check(sub, at + "/" + name);
        } else if (key == "required") {
            if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const json& s) { return s.is_string(); }))
                bad("a list of property names");
        } else if (key == "additionalProperties" || key == "not") {
            check(v, at);
        } else if (key == "items") {
            if (v.is_array())
                fail("JSON schema at " + at + ": \"items\" as a list (the tuple form of drafts 4-7) is not "
                     "supported; give one schema that every item must match");
            check(v, at);
        } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") {
            if (!isIntegral(v) || v.get<double>() < 0)
                bad("a non-negative integer");
        } else if (key == "uniqueItems" && !v.is_boolean()) {
            bad("true or false");
        } else if (key == "pattern") {
            if (!v.is_string())
                bad("a regular expression (a string)");
            if (!m_patterns.count(v.get<std::string>()))
                m_patterns.emplace(v.get<std::string>(), Regex(v.get<std::string>(), "JSON schema at " + at));
        } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
            if (v.is_boolean())
                fail("JSON schema at " + at + ": \"" + key + "\" as true/false (draft 4) is not supported; "
                     "give the bound itself, e.g. \"" + key + "\": 0");
            if (!v.is_number())
                bad("a number");
        } else if ((key == "minimum" || key == "maximum") && !v.is_number()) {
            bad("a number");
        } else if (key == "multipleOf" && (!v.is_number() || v.get<double>() <= 0)) {
            bad("a number > 0");
        } else if (key == "anyOf" || key == "allOf" || key == "oneOf") {
            if (!v.is_array() || v.empty())
                bad("a non-empty list of schemas");
            for (size_t i = 0; i < v.size(); ++i)
                check(v[i], at + "/" + std::to_string(i));
        }
    }
}

std::vector<std::string> JsonSchema::violations(const nlohmann::json& value) const
{
    std::vector<std::string> out;
    validate(value, m_schema, "$", out);
    return out;
}

void JsonSchema::validate(const json& value, const json& schema, const std::string& path,
                          std::vector<std::string>& out) const
{
    if (schema.is_boolean()) {
        if (!schema.get<bool>())
            out.push_back(path + ": no value is allowed here (the schema is false)");
        return;
    }
    const auto problem = [&](const std::string& message) { out.push_back(path + ": " + message); };
    // The first violation of each branch, for anyOf / oneOf messages.
    const auto branchSummary = [&](const json& branches, std::vector<size_t>& matching) {
        std::string summary;
        for (size_t i = 0; i < branches.size(); ++i) {
            std::vector<std::string> sub;
            validate(value, branches[i], path, sub);
            if (sub.empty())
                matching.push_back(i);
            else
                summary += (summary.empty() ? "" : "; ") + std::string("#") + std::to_string(i) + ": " + sub.front();
        }
        return summary;
    };

    for (const auto& [key, v] : schema.items()) {
        if (key == "type") {
            const json list = v.is_array() ? v : json::array({v});
            bool ok = false;
            std::vector<std::string> names;
            for (const json& t : list) {
                ok = ok || hasType(value, t.get<std::string>());
                names.push_back(t.get<std::string>());
            }
            if (!ok)
                problem("expected " + util::joinList(names, " or ") + ", found " + typeOf(value));
        } else if (key == "enum") {
            if (std::find(v.begin(), v.end(), value) == v.end())
                problem("must be one of " + shown(v) + ", found " + shown(value));
        } else if (key == "const") {
            if (value != v)
                problem("must be " + shown(v) + ", found " + shown(value));
        } else if (key == "properties" && value.is_object()) {
            for (const auto& [name, sub] : v.items())
                if (const auto it = value.find(name); it != value.end())
                    validate(*it, sub, childPath(path, name), out);
        } else if (key == "required" && value.is_object()) {
            for (const json& name : v)
                if (!value.contains(name.get<std::string>()))
                    problem("missing required property \"" + name.get<std::string>() + "\"");
        } else if (key == "additionalProperties" && value.is_object()) {
            const json properties = schema.value("properties", json::object());
            for (const auto& [name, item] : value.items()) {
                if (properties.contains(name))
                    continue;
                if (v.is_boolean() && !v.get<bool>())
                    out.push_back(childPath(path, name) + ": property not allowed (additionalProperties is false)");
                else
                    validate(item, v, childPath(path, name), out);
            }
        } else if (key == "items" && value.is_array()) {
            for (size_t i = 0; i < value.size(); ++i)
                validate(value[i], v, itemPath(path, i), out);
        } else if (key == "minItems" && value.is_array()) {
            if (value.size() < v.get<double>())
                problem("expected at least " + shown(v) + " items, found " + std::to_string(value.size()));
        } else if (key == "maxItems" && value.is_array()) {
            if (value.size() > v.get<double>())
                problem("expected at most " + shown(v) + " items, found " + std::to_string(value.size()));
        } else if (key == "uniqueItems" && value.is_array() && v.get<bool>()) {
            bool reported = false;
            for (size_t i = 0; i < value.size() && !reported; ++i)
                for (size_t j = i + 1; j < value.size() && !reported; ++j)
                    if (value[i] == value[j]) {
                        problem("items " + std::to_string(i) + " and " + std::to_string(j) +
                                " are equal, expected unique items");
                        reported = true;
                    }
        } else if (key == "minLength" && value.is_string()) {
            if (const size_t n = tok::utf8::codePointCount(value.get<std::string>()); n < v.get<double>())
                problem("expected at least " + shown(v) + " characters, found " + std::to_string(n));
        } else if (key == "maxLength" && value.is_string()) {
            if (const size_t n = tok::utf8::codePointCount(value.get<std::string>()); n > v.get<double>())
                problem("expected at most " + shown(v) + " characters, found " + std::to_string(n));
        } else if (key == "pattern" && value.is_string()) {
            if (!m_patterns.at(v.get<std::string>()).search(value.get<std::string>()))
                problem("does not match the pattern " + shown(v));
        } else if (value.is_number() && (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
                                         key == "exclusiveMaximum")) {
            const double x = value.get<double>(), bound = v.get<double>();
            const bool ok = key == "minimum"   ? x >= bound
                            : key == "maximum" ? x <= bound
                            : key == "exclusiveMinimum" ? x > bound
                                                        : x < bound;
            const char* op = key == "minimum" ? ">=" : key == "maximum" ? "<=" : key == "exclusiveMinimum" ? ">" : "<";
            if (!ok)
                problem(std::string("must be ") + op + " " + shown(v) + ", found " + shown(value));
        } else if (key == "multipleOf" && value.is_number()) {
            if (!isMultipleOf(value, v))
                problem("must be a multiple of " + shown(v) + ", found " + shown(value));
        } else if (key == "allOf") {
            for (const json& branch : v)
                validate(value, branch, path, out);
        } else if (key == "anyOf") {
            std::vector<size_t> matching;
            const std::string summary = branchSummary(v, matching);
            if (matching.empty())
                problem("matches none of the anyOf schemas (" + summary + ")");
        } else if (key == "oneOf") {
            std::vector<size_t> matching;
            const std::string summary = branchSummary(v, matching);
            if (matching.empty())
                problem("matches none of the oneOf schemas (" + summary + ")");
            else if (matching.size() > 1)
                problem("matches oneOf schemas #" + std::to_string(matching[0]) + " and #" +
                        std::to_string(matching[1]) + ", expected exactly one");
        } else if (key == "not") {
            std::vector<std::string> sub;
            validate(value, v, path, sub);
            if (sub.empty())
                problem("must not match the schema under \"not\"");
        }
    }
}

std::vector<std::string> schemaViolations(const nlohmann::json& value, const nlohmann::json& schema)
{
    return JsonSchema(schema).violations(value);
}

} // namespace ft::eval
