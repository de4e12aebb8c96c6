// Reading fields of a PEFT adapter_config.json with errors that name the file and
// the field: shared by adapter_io.cpp and each technique's readPeftConfig.
#pragma once

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ft::peft {

// The field's value, `fallback` when it is absent or null; ft::Error on a wrong type.
template <typename T>
T configField(const nlohmann::json& j, const std::string& key, T fallback, const std::string& file)
{
    if (!j.contains(key) || j[key].is_null())
        return fallback;
    try {
        return j[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        fail(file + ": field '" + key + "' has the wrong type (" + j[key].dump() + ")");
    }
}

// A list of module names; one string stays one entry (PEFT: a regex over module paths).
std::vector<std::string> configStringList(const nlohmann::json& j, const std::string& key, const std::string& file);

} // namespace ft::peft
