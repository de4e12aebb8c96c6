// A typed description of a group of settings (a technique's, an objective's, the
// run's): key, type, default, range or choices, label and help. One table serves
// three readers: the run-config validator (every error with its JSON path and the
// allowed values), the CLI's documentation, and the GUI, which builds its forms
// from the JSON form of the schema instead of hard-coding them.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ft::util {

struct SettingSpec {
    enum class Type { Int, Number, Bool, String, Choice, StringList, Object };
    std::string key;
    Type type = Type::String;
    nlohmann::json defaultValue;     // null = required
    std::optional<double> min, max;  // Int / Number, inclusive
    std::vector<std::string> choices;  // Choice (and allowed items of a StringList when not empty)
    std::string label;                 // short, for a form
    std::string help;                  // one or two sentences, for a tooltip
    std::vector<std::string> appliesTo;  // techniques/objectives this setting belongs to; empty = all
};

const char* settingTypeName(SettingSpec::Type t);  // "int", "number", "bool", "string", "choice", "string list", "object"

// Checks `value` (an object; null counts as {}) against `specs`: type, range,
// choices, required keys, and unknown keys (with the closest known key suggested).
// Each problem is appended to `errors` as "PATH.key: message", e.g.
//   "technique.r: must be an integer >= 1, got 0"
//   "objective.name: must be one of sft, dpo, ...; got \"dpx\""
// Returns the object with defaults filled in for absent keys.
nlohmann::json applySchema(const nlohmann::json& value, const std::vector<SettingSpec>& specs,
                           const std::string& path, std::vector<std::string>& errors, bool rejectUnknownKeys = true);

// [{key, type, default, min?, max?, choices?, label, help, applies_to?}, ...]
nlohmann::json schemaToJson(const std::vector<SettingSpec>& specs);

} // namespace ft::util
