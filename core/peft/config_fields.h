// Reading fields of a PEFT adapter_config.json with errors that name the file and
// the field: shared by adapter_io.cpp and each technique's readPeftConfig.
#pragma once

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace ft::peft {

// The field's value, `fallback` when it is absent or null; ft::Error on a wrong type.
template <typename T>
T configField(const nlohmann::json& j, const std::string& key, T fallback, const std::string& file)
{
    if (!j.contains(key) || j[key].is_null())
        return fallback;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        // nlohmann would truncate 13.7 to 13 and cast 1.2e65 (undefined behaviour): an
        // integer field takes an integer that fits, nothing else.
        const nlohmann::json& v = j[key];
        if (!v.is_number_integer() ||
            (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) ||
            v.get<int64_t>() < int64_t(std::numeric_limits<T>::min()) ||
            v.get<int64_t>() > int64_t(std::numeric_limits<T>::max()))
            fail(file + ": field '" + key + "' must be an integer, found " + v.dump());
        return T(v.get<int64_t>());
    }
    try {
        return j[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        fail(file + ": field '" + key + "' has the wrong type (" + j[key].dump() + ")");
    }
}

// A list of module names; one string stays one entry (PEFT: a regex over module paths).
std::vector<std::string> configStringList(const nlohmann::json& j, const std::string& key, const std::string& file);

} // namespace ft::peft
