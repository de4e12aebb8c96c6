// Reading config.json fields with errors that name the file and the field: the
// common parser (model_config.cpp) and each family's own fields (arch_*.cpp).
#pragma once

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace ft::model {

class FieldReader {
public:
    FieldReader(const nlohmann::json& j, const std::string& source) : m_j(j), m_source(source) {}

    int64_t positiveInt(const char* key) const
    {
        if (!m_j.contains(key))
            fail(m_source + ": required field '" + key + "' is missing");
        return checkPositive(key, m_j.at(key));
    }
    int64_t positiveIntOr(const char* key, int64_t fallback) const
    {
        if (!m_j.contains(key) || m_j.at(key).is_null())
            return fallback;
        return checkPositive(key, m_j.at(key));
    }
    double numberOr(const char* key, double fallback) const
    {
        if (!m_j.contains(key) || m_j.at(key).is_null())
            return fallback;
        if (!m_j.at(key).is_number())
            fail(m_source + ": field '" + key + "' must be a number, found " + m_j.at(key).dump());
        return m_j.at(key).get<double>();
    }
    bool boolOr(const char* key, bool fallback) const
    {
        if (!m_j.contains(key) || m_j.at(key).is_null())
            return fallback;
        if (!m_j.at(key).is_boolean())
            fail(m_source + ": field '" + key + "' must be true or false, found " + m_j.at(key).dump());
        return m_j.at(key).get<bool>();
    }
    std::string stringOr(const char* key, const std::string& fallback) const
    {
        if (!m_j.contains(key) || m_j.at(key).is_null())
            return fallback;
        if (!m_j.at(key).is_string())
            fail(m_source + ": field '" + key + "' must be a string, found " + m_j.at(key).dump());
        return m_j.at(key).get<std::string>();
    }

private:
    int64_t checkPositive(const char* key, const nlohmann::json& v) const
    {
        if (!v.is_number_integer() || v.get<int64_t>() <= 0)
            fail(m_source + ": field '" + key + "' must be a positive integer, found " + v.dump());
        return v.get<int64_t>();
    }
    const nlohmann::json& m_j;
    const std::string& m_source;
};

} // namespace ft::model
