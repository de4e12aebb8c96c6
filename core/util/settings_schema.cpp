// Checking a JSON object against a table of SettingSpecs (see settings_schema.h).
// Every problem is collected, never just the first, so that a user fixing a run
// config sees all of its mistakes in one go. Not here: what any setting means.
#include "util/settings_schema.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace ft::util {

namespace {

using nlohmann::json;

std::string joinPath(const std::string& path, const std::string& key)
{
    return path.empty() ? key : path + "." + key;
}

// A value quoted for a message; long values (a pasted object) are cut short.
std::string shown(const json& v)
{
    std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 60)
        text = text.substr(0, 57) + "...";
    return text;
}

size_t editDistance(const std::string& a, const std::string& b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The closest candidate, when it is close enough to be a plausible typo.
std::string closest(const std::string& word, const std::vector<std::string>& candidates)
{
    std::string best;
    size_t bestDistance = SIZE_MAX;
    for (const std::string& c : candidates) {
        const size_t d = editDistance(word, c);
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    // Short words are close to everything; a suggestion must keep part of the word.
    const size_t allowed = word.size() <= 3 ? 1 : std::max<size_t>(2, word.size() / 3);
    return bestDistance <= allowed && bestDistance < word.size() ? best : std::string();
}

std::string rangeText(const SettingSpec& s)
{
    if (s.min && s.max)
        return " between " + formatNumber(*s.min, 12) + " and " + formatNumber(*s.max, 12);
    if (s.min)
        return " >= " + formatNumber(*s.min, 12);
    if (s.max)
        return " <= " + formatNumber(*s.max, 12);
    return "";
}

// "" when `text` is one of the choices, else a message naming them all (and, for
// words, the closest one: a typo of "cosine" is likely, a typo of 64 is not).
std::string choiceProblem(const std::string& text, const std::vector<std::string>& choices, const json& shownValue)
{
    if (choices.empty() || std::find(choices.begin(), choices.end(), text) != choices.end())
        return "";
    std::string message = "must be one of " + util::joinList(choices) + "; got " + shown(shownValue);
    if (const std::string guess = shownValue.is_string() ? closest(text, choices) : ""; !guess.empty())
        message += " (did you mean \"" + guess + "\"?)";
    return message;
}

// Checks one present value; returns it normalized (integral floats as integers)
// or null after appending a problem.
json checkValue(const SettingSpec& s, const json& v, const std::string& where, std::vector<std::string>& errors)
{
    auto problem = [&](const std::string& message) {
        errors.push_back(where + ": " + message);
        return json();
    };
    switch (s.type) {
    case SettingSpec::Type::Int: {
        json value = v;
        // 1e3 and 4.0 are integers written as floats; 1.5 is not.
        if (v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>() &&
            std::fabs(v.get<double>()) < 9.0e15)
            value = static_cast<int64_t>(v.get<double>());
        if (!value.is_number_integer())
            return problem("must be an integer" + rangeText(s) + ", got " + shown(v));
        const double x = value.is_number_unsigned() ? static_cast<double>(value.get<uint64_t>())
                                                    : static_cast<double>(value.get<int64_t>());
        if ((s.min && x < *s.min) || (s.max && x > *s.max))
            return problem("must be an integer" + rangeText(s) + ", got " + shown(v));
        if (const std::string p = choiceProblem(std::to_string(value.get<int64_t>()), s.choices, v); !p.empty())
            return problem(p);
        return value;
    }
    case SettingSpec::Type::Number: {
        if (!v.is_number())
            return problem("must be a number" + rangeText(s) + ", got " + shown(v));
        const double x = v.get<double>();
        if (!std::isfinite(x))
            return problem("must be a finite number, got " + shown(v));
        if ((s.min && x < *s.min) || (s.max && x > *s.max))
            return problem("must be a number" + rangeText(s) + ", got " + shown(v));
        return v;
    }
    case SettingSpec::Type::Bool:
        if (!v.is_boolean())
            return problem("must be true or false, got " + shown(v));
        return v;
    case SettingSpec::Type::String:
        if (!v.is_string())
            return problem("must be a string, got " + shown(v));
        return v;
    case SettingSpec::Type::Choice: {
        if (!v.is_string())
            return problem("must be one of " + util::joinList(s.choices) + " (a string); got " + shown(v));
        if (const std::string p = choiceProblem(v.get<std::string>(), s.choices, v); !p.empty())
            return problem(p);
        return v;
    }
    case SettingSpec::Type::StringList: {
        // A lone string is read as a one-item list ("all-linear").
        const json list = v.is_string() ? json::array({v}) : v;
        if (!list.is_array())
            return problem("must be a list of strings, got " + shown(v));
        bool ok = true;
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string itemWhere = where + "[" + std::to_string(i) + "]";
            if (!list[i].is_string()) {
                errors.push_back(itemWhere + ": must be a string, got " + shown(list[i]));
                ok = false;
            } else if (const std::string p = choiceProblem(list[i].get<std::string>(), s.choices, list[i]);
                       !p.empty()) {
                errors.push_back(itemWhere + ": " + p);
                ok = false;
            }
        }
        return ok ? list : json();
    }
    case SettingSpec::Type::Object:
        if (!v.is_object())
            return problem("must be an object ({...}), got " + shown(v));
        return v;
    }
    return v;
}

} // namespace

const char* settingTypeName(SettingSpec::Type t)
{
    switch (t) {
    case SettingSpec::Type::Int: return "int";
    case SettingSpec::Type::Number: return "number";
    case SettingSpec::Type::Bool: return "bool";
    case SettingSpec::Type::String: return "string";
    case SettingSpec::Type::Choice: return "choice";
    case SettingSpec::Type::StringList: return "string list";
    case SettingSpec::Type::Object: return "object";
    }
    return "?";
}

nlohmann::json applySchema(const nlohmann::json& value, const std::vector<SettingSpec>& specs,
                           const std::string& path, std::vector<std::string>& errors, bool rejectUnknownKeys)
{
    json input = value.is_null() ? json::object() : value;
    if (!input.is_object()) {
        errors.push_back((path.empty() ? std::string("the run config") : path) +
                         ": must be an object ({...}), got " + shown(value));
        input = json::object();
    }

    json out = json::object();
    for (const SettingSpec& s : specs) {
        const std::string where = joinPath(path, s.key);
        const auto it = input.find(s.key);
        if (it == input.end() || it->is_null()) {
            if (s.defaultValue.is_null()) {
                std::string what = settingTypeName(s.type);
                if (s.type == SettingSpec::Type::Choice)
                    what = "one of " + util::joinList(s.choices);
                errors.push_back(where + ": is required (" + what + (s.label.empty() ? "" : ": " + s.label) +
                                 ") but missing");
            }
            out[s.key] = s.defaultValue;
            continue;
        }
        const json checked = checkValue(s, *it, where, errors);
        out[s.key] = checked.is_null() ? s.defaultValue : checked;
    }

    if (rejectUnknownKeys) {
        std::vector<std::string> known;
        for (const SettingSpec& s : specs)
            known.push_back(s.key);
        for (const auto& [key, v] : input.items()) {
            if (std::find(known.begin(), known.end(), key) != known.end())
                continue;
            std::string message = joinPath(path, key) + ": unknown setting";
            if (const std::string guess = closest(key, known); !guess.empty())
                message += "; did you mean \"" + guess + "\"?";
            else
                message += "; known settings here: " + util::joinList(known);
            errors.push_back(message);
        }
    }
    return out;
}

nlohmann::json schemaToJson(const std::vector<SettingSpec>& specs)
{
    json out = json::array();
    for (const SettingSpec& s : specs) {
        json entry = {{"key", s.key},       {"type", settingTypeName(s.type)}, {"default", s.defaultValue},
                      {"label", s.label},   {"help", s.help}};
        if (s.defaultValue.is_null())
            entry["required"] = true;
        // An integer setting's bounds are integers, so a form can use them as they are.
        const auto bound = [&](double v) {
            return s.type == SettingSpec::Type::Int ? json(static_cast<int64_t>(v)) : json(v);
        };
        if (s.min)
            entry["min"] = bound(*s.min);
        if (s.max)
            entry["max"] = bound(*s.max);
        if (!s.choices.empty())
            entry["choices"] = s.choices;
        if (!s.appliesTo.empty())
            entry["applies_to"] = s.appliesTo;
        out.push_back(std::move(entry));
    }
    return out;
}

} // namespace ft::util
