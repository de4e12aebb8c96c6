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

// Qwen2 and Qwen3 window only the layers from max_window_layers on (or those
// layer_types marks "sliding_attention"); with none of them windowed the model is
// exactly full attention, otherwise it is refused with the fix in the message.
inline void refuseWindowedLayers(const nlohmann::json& j, const FieldReader& f, int64_t layers, const std::string& family,
                                 const std::string& source)
{
    if (j.contains("layer_types") && j["layer_types"].is_array())
        for (const auto& t : j["layer_types"])
            if (t.is_string() && t.get<std::string>() != "full_attention")
                fail(source + ": layer_types marks a layer '" + t.get<std::string>() + "': " + family +
                     "'s per-layer sliding window is not supported; every layer must be \"full_attention\"");
    if (!f.boolOr("use_sliding_window", false) || !j.contains("sliding_window") || j["sliding_window"].is_null())
        return;
    const int64_t windowFrom = f.positiveIntOr("max_window_layers", 28);
    if (windowFrom < layers)
        fail(source + ": use_sliding_window is true and max_window_layers (" + std::to_string(windowFrom) +
             ") < num_hidden_layers (" + std::to_string(layers) + "): " + family +
             "'s per-layer sliding window is not supported; set use_sliding_window to false to run every layer "
             "with full attention (as " + family + " checkpoints ship)");
}

} // namespace ft::model
