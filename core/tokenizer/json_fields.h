// Reading the fields of tokenizer.json components with errors that name the file and
// the JSON path ("/m/tokenizer.json at pre_tokenizer.pretokenizers[1].pattern: ...").
// `where` is always "<file> at <path>"; at() and at(i) extend it. Not here: what
// any component means.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace ft::tok::jsonf {

using Json = nlohmann::json;

[[noreturn]] void failAt(const std::string& where, const std::string& message);

inline std::string at(const std::string& where, const std::string& key) { return where + "." + key; }
inline std::string at(const std::string& where, size_t index) { return where + "[" + std::to_string(index) + "]"; }

// The value of `key`, or nullptr when the key is absent or null.
const Json* find(const Json& object, const char* key);
// Fails unless `j` is an object.
void requireObject(const Json& j, const std::string& where);

std::string requiredString(const Json& object, const char* key, const std::string& where);
std::optional<std::string> optionalString(const Json& object, const char* key, const std::string& where);
bool boolOr(const Json& object, const char* key, bool fallback, const std::string& where);
long long intOr(const Json& object, const char* key, long long fallback, const std::string& where);
const Json& requiredArray(const Json& object, const char* key, const std::string& where);
// A string holding exactly one character (Metaspace's replacement, Strip's content).
char32_t requiredChar(const Json& object, const char* key, const std::string& where);

// The "type" field of a component.
std::string typeOf(const Json& object, const std::string& where);

} // namespace ft::tok::jsonf
